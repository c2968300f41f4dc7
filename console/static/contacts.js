// The Contacts tab: the searchable, paged table, the New/Edit dialog, deletes and Send test.

import { gql } from './api.js';
import { t } from './i18n.js';
import {
  BATCH_DELETE_CONTACTS, CONTACTS, CREATE_CONTACT, DELETE_CONTACT, TEST_CONTACT, UPDATE_CONTACT,
} from './documents.js';
import {
  Pager, announce, busy, button, clearErrors, clearErrorsAsTyped, confirmAction, debounce, el, fillRows,
  icon, openDialog, showErrors,
} from './ui.js';
import { groupPicker } from './picker.js';
import { guessPlatform, platformBadge } from './platforms.js';

const PAGE_SIZE = 20;

// A contact's user id on each platform, as the form and the list name them.
const USER_IDS = [
  ['dingtalkUserId', t('contacts.field.dingtalkUserId')],
  ['wecomUserId', t('contacts.field.wecomUserId')],
  ['larkUserId', t('contacts.field.larkUserId')],
];


export function contactsTab(panel) {
  const rows = panel.querySelector('#contacts-rows');
  const search = panel.querySelector('#contact-search');
  const selectAll = panel.querySelector('#contacts-all');
  const batchDelete = panel.querySelector('#batch-delete');
  const selectedCount = panel.querySelector('#selected-count');
  const pager = new Pager(panel.querySelector('.pager'), PAGE_SIZE, load);
  const dialog = contactDialog(load);
  // Selection is per page: changing page or search clears it, so nothing out of sight is deleted.
  const selected = new Set();
  let shown = [];

  let latest = 0;

  // done, when given, is announced once the list shows the change it reports. Only the latest
  // load shows its answer: one overtaken by another (the first load at start and a search typed
  // meanwhile) would otherwise put older rows and page buttons back.
  async function load(done) {
    const mine = ++latest;
    try {
      const conn = (await gql(CONTACTS, { search: search.value.trim() || null, ...pager.args })).contacts;
      if (mine !== latest) {
        if (done) announce(done); // the change happened; the newer load shows it
        return;
      }
      if (pager.recover(conn)) return load(done); // the contacts of this page were deleted
      shown = conn.edges.map((e) => e.node);
      // Keep only what is still in sight: a reload of the same page (one that was in flight while
      // boxes were ticked) keeps the selection, another page or search drops it.
      const visible = new Set(shown.map((c) => c.id));
      for (const id of selected) if (!visible.has(id)) selected.delete(id);
      fillRows(rows, shown.map(row), search.value ? t('contacts.noneMatch') : t('contacts.none'));
      renderSelection();
      pager.update(conn);
      if (done) announce(done);
    } catch (err) {
      announce(`${done ? `${done} ` : ''}${t('contacts.loadFailed', { error: err.message })}`, { error: true });
    }
  }

  function row(c) {
    return el(
      'tr',
      {},
      el(
        'td',
        { class: 'select', 'data-requires': 'manage' },
        el('input', {
          type: 'checkbox',
          value: c.id,
          'aria-label': t('contacts.selectLabel', { name: c.name }),
          onchange: (event) => {
            if (event.target.checked) selected.add(c.id);
            else selected.delete(c.id);
            renderSelection();
          },
        }),
      ),
      el(
        'th',
        { scope: 'row', 'data-label': t('common.name') },
        el('span', { class: 'name' }, c.name),
        c.phone && el('span', { class: 'muted phone' }, c.phone),
        USER_IDS.map(([field, label]) => c[field] && el('span', { class: 'muted phone user-id', 'data-user-id': field }, t('common.labelValue', { label, value: c[field] }))),
      ),
      el(
        'td',
        { 'data-label': t('common.groups') },
        c.groups.length ? el('ul', { class: 'chips' }, c.groups.map((g) => el('li', { class: 'chip' }, g.name))) : el('span', { class: 'muted' }, t('contacts.noGroup')),
      ),
      el('td', { 'data-label': t('contacts.webhooks') }, el('ul', { class: 'hooks' }, c.webhooks.map(webhookItem))),
      el(
        'td',
        { class: 'actions', 'data-label': t('common.actions') },
        el(
          'div',
          { class: 'row-actions' },
          button(t('contacts.sendTest'), 'send', () => sendTest(c), { 'data-requires': 'send', 'aria-label': t('contacts.sendTestLabel', { name: c.name }) }),
          button(t('common.edit'), 'edit', () => dialog.open(c), { 'data-requires': 'manage', 'aria-label': t('common.editLabel', { name: c.name }) }),
          button(t('common.delete'), 'trash', () => remove(c), { 'data-requires': 'manage', class: 'danger-text', 'aria-label': t('common.deleteLabel', { name: c.name }) }),
        ),
      ),
    );
  }

  function renderSelection() {
    for (const box of rows.querySelectorAll('input[type="checkbox"]')) box.checked = selected.has(box.value);
    selectAll.checked = shown.length > 0 && selected.size === shown.length;
    selectAll.indeterminate = selected.size > 0 && selected.size < shown.length;
    batchDelete.disabled = selected.size === 0;
    selectedCount.textContent = selected.size ? t('contacts.selected', { count: selected.size }) : '';
  }

  async function remove(c) {
    const ok = await confirmAction({
      title: t('contacts.delete.title'),
      message: t('contacts.delete.message', { name: c.name }),
      action: t('contacts.delete.action'),
    });
    if (!ok) return;
    try {
      await gql(DELETE_CONTACT, { id: c.id });
      await load(t('contacts.deleted', { name: c.name }));
    } catch (err) {
      announce(t('common.notDeleted', { name: c.name, error: err.message }), { error: true });
    }
  }

  async function removeSelected() {
    const ids = [...selected];
    const ok = await confirmAction({
      title: t('contacts.batchDelete.title', { count: ids.length }),
      message: t('contacts.batchDelete.message'),
      action: t('contacts.batchDelete.action', { count: ids.length }),
    });
    if (!ok) return;
    try {
      const { deletedIds, notFoundIds } = (await gql(BATCH_DELETE_CONTACTS, { ids })).batchDeleteContacts;
      const gone = notFoundIds.length ? t('contacts.batchDelete.gone', { count: notFoundIds.length }) : '';
      await load(t('contacts.batchDelete.done', { count: deletedIds.length, gone }));
    } catch (err) {
      announce(t('common.nothingDeleted', { error: err.message }), { error: true });
    }
  }

  async function sendTest(c) {
    try {
      const alert = (await gql(TEST_CONTACT, { id: c.id })).testContact;
      announce(t('contacts.testQueued', { name: c.name, id: alert.id }));
    } catch (err) {
      announce(t('contacts.testFailed', { name: c.name, error: err.message }), { error: true });
    }
  }

  selectAll.addEventListener('change', () => {
    for (const c of shown) {
      if (selectAll.checked) selected.add(c.id);
      else selected.delete(c.id);
    }
    renderSelection();
  });
  batchDelete.addEventListener('click', removeSelected);
  search.addEventListener(
    'input',
    debounce(() => {
      pager.reset();
      load();
    }, 250),
  );
  panel.querySelector('#new-contact').addEventListener('click', () => dialog.open(null));

  return { show: load, hide() {} };
}

function webhookItem(w) {
  return el(
    'li',
    { class: 'hook' },
    platformBadge(w.platform),
    el('code', { class: 'url' }, w.url),
    w.hasSecret && el('span', { class: 'tag', title: t('contacts.hook.signedTitle') }, icon('lock'), t('contacts.hook.signed')),
    w.keyword && el('span', { class: 'tag', title: t('contacts.hook.keywordTitle') }, icon('key'), w.keyword),
  );
}

/** Splits the Webhook field: commas as the source document asks, and line breaks for convenience. */
function parseURLs(text) {
  return text.split(/[,\s]+/).filter(Boolean);
}

/**
 * The New/Edit contact dialog. On an error it stays open with everything typed; only a success
 * closes it.
 */
function contactDialog(onSaved) {
  const dialog = document.getElementById('contact-dialog');
  const form = dialog.querySelector('form');
  const title = dialog.querySelector('#contact-dialog-title');
  const name = form.elements.name;
  const phone = form.elements.phone;
  const urls = form.elements.urls;
  const groups = groupPicker(dialog.querySelector('#contact-groups'));
  const hookRows = dialog.querySelector('#contact-hooks');
  let editing = null;
  // What was typed per URL survives the rows being redrawn while the URL list is edited.
  let perURL = new Map();

  function rememberRows() {
    for (const rowEl of hookRows.children) {
      const f = (n) => rowEl.querySelector(`[name="${n}"]`);
      perURL.set(rowEl.dataset.url, {
        ...perURL.get(rowEl.dataset.url),
        secret: f('secret').value,
        keyword: f('keyword').value,
        clearSecret: f('clearSecret')?.checked ?? false,
      });
    }
  }

  function renderRows() {
    rememberRows();
    hookRows.replaceChildren(...parseURLs(urls.value).map((url, i) => hookRow(url, i, perURL.get(url) ?? {})));
  }

  function hookRow(url, i, v) {
    const id = (n) => `hook-${i}-${n}`;
    return el(
      'fieldset',
      { class: 'hook-row', 'data-url': url, 'data-field': `input.webhooks[${i}]` },
      el('legend', {}, t('contacts.hook.url', { n: i + 1 }), guessPlatform(url) && platformBadge(guessPlatform(url))),
      el('div', { class: 'hook-url', 'data-field': `input.webhooks[${i}].url`, 'data-control': 'contact-urls' }, el('code', { class: 'url' }, url), el('p', { class: 'field-error', hidden: true })),
      el(
        'div',
        { class: 'field', 'data-field': `input.webhooks[${i}].secret` },
        el('label', { for: id('secret') }, `${t('common.signingSecret')} `, el('span', { class: 'optional' }, t('common.optional'))),
        el('input', {
          id: id('secret'),
          name: 'secret',
          type: 'password',
          autocomplete: 'new-password',
          value: v.secret ?? '',
          placeholder: v.hasSecret ? t('common.secretStored') : '',
        }),
        v.hasSecret && el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'clearSecret', checked: v.clearSecret }), t('common.removeSecret')),
        el('p', { class: 'field-error', hidden: true }),
      ),
      el(
        'div',
        { class: 'field', 'data-field': `input.webhooks[${i}].keyword` },
        el('label', { for: id('keyword') }, `${t('contacts.hook.keyword')} `, el('span', { class: 'optional' }, t('common.optional'))),
        el('input', { id: id('keyword'), name: 'keyword', autocomplete: 'off', value: v.keyword ?? '' }),
        el('p', { class: 'field-error', hidden: true }),
      ),
    );
  }

  /** The API input from the form. On update, empty strings clear; on create they are left out. */
  function input() {
    rememberRows();
    const webhooks = parseURLs(urls.value).map((url) => {
      const v = perURL.get(url) ?? {};
      const hook = { url };
      if (v.secret) hook.secret = v.secret;
      else if (v.clearSecret) hook.secret = '';
      if (v.keyword || (editing && v.hadKeyword)) hook.keyword = v.keyword ?? '';
      return hook;
    });
    const out = { name: name.value.trim(), webhooks, groupIds: groups.ids() };
    if (phone.value.trim() || editing?.phone) out.phone = phone.value.trim();
    // As the phone: left out on create when empty; on update an emptied id is cleared.
    for (const [field] of USER_IDS) {
      const value = form.elements[field].value.trim();
      if (value || editing?.[field]) out[field] = value;
    }
    return out;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(form, async () => {
      try {
        const saved = editing
          ? (await gql(UPDATE_CONTACT, { id: editing.id, input: input() })).updateContact
          : (await gql(CREATE_CONTACT, { input: input() })).createContact;
        dialog.close();
        onSaved(t(editing ? 'contacts.updated' : 'contacts.created', { name: saved.name }));
      } catch (err) {
        showErrors(form, err);
      }
    });
  });
  urls.addEventListener('input', renderRows);
  clearErrorsAsTyped(form);

  return {
    open(contact) {
      editing = contact;
      form.reset();
      clearErrors(form);
      title.textContent = contact ? t('contacts.editTitle', { name: contact.name }) : t('contacts.new');
      name.value = contact?.name ?? '';
      phone.value = contact?.phone ?? '';
      for (const [field] of USER_IDS) form.elements[field].value = contact?.[field] ?? '';
      perURL = new Map(
        (contact?.webhooks ?? []).map((w) => [w.url, { keyword: w.keyword ?? '', hadKeyword: w.keyword != null, hasSecret: w.hasSecret }]),
      );
      urls.value = (contact?.webhooks ?? []).map((w) => w.url).join(', ');
      hookRows.replaceChildren();
      renderRows();
      // The groups the row was read with: a contact is in at most 200.
      groups.set(contact?.groups ?? []);
      openDialog(dialog, name);
    },
  };
}
