// The Contacts tab: the searchable, paged table, the New/Edit dialog, deletes and Send test.

import { gql } from './api.js';
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
  ['dingtalkUserId', 'DingTalk user id'],
  ['wecomUserId', 'WeCom user id'],
  ['larkUserId', 'Lark open_id'],
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
      fillRows(rows, shown.map(row), search.value ? 'No contact matches this search.' : 'No contacts yet.');
      renderSelection();
      pager.update(conn);
      if (done) announce(done);
    } catch (err) {
      announce(`${done ? `${done} ` : ''}Contacts could not be loaded: ${err.message}`, { error: true });
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
          'aria-label': `Select ${c.name}`,
          onchange: (event) => {
            if (event.target.checked) selected.add(c.id);
            else selected.delete(c.id);
            renderSelection();
          },
        }),
      ),
      el(
        'th',
        { scope: 'row', 'data-label': 'Name' },
        el('span', { class: 'name' }, c.name),
        c.phone && el('span', { class: 'muted phone' }, c.phone),
        USER_IDS.map(([field, label]) => c[field] && el('span', { class: 'muted phone user-id', 'data-user-id': field }, `${label}: ${c[field]}`)),
      ),
      el(
        'td',
        { 'data-label': 'Groups' },
        c.groups.length ? el('ul', { class: 'chips' }, c.groups.map((g) => el('li', { class: 'chip' }, g.name))) : el('span', { class: 'muted' }, 'No group'),
      ),
      el('td', { 'data-label': 'Webhooks' }, el('ul', { class: 'hooks' }, c.webhooks.map(webhookItem))),
      el(
        'td',
        { class: 'actions', 'data-label': 'Actions' },
        el(
          'div',
          { class: 'row-actions' },
          button('Send test', 'send', () => sendTest(c), { 'data-requires': 'send', 'aria-label': `Send test to ${c.name}` }),
          button('Edit', 'edit', () => dialog.open(c), { 'data-requires': 'manage', 'aria-label': `Edit ${c.name}` }),
          button('Delete', 'trash', () => remove(c), { 'data-requires': 'manage', class: 'danger-text', 'aria-label': `Delete ${c.name}` }),
        ),
      ),
    );
  }

  function renderSelection() {
    for (const box of rows.querySelectorAll('input[type="checkbox"]')) box.checked = selected.has(box.value);
    selectAll.checked = shown.length > 0 && selected.size === shown.length;
    selectAll.indeterminate = selected.size > 0 && selected.size < shown.length;
    batchDelete.disabled = selected.size === 0;
    selectedCount.textContent = selected.size ? `${selected.size} selected` : '';
  }

  async function remove(c) {
    const ok = await confirmAction({
      title: 'Delete contact?',
      message: `“${c.name}” and its webhooks will be deleted and it leaves all its groups. Alerts already sent keep its name.`,
      action: 'Delete contact',
    });
    if (!ok) return;
    try {
      await gql(DELETE_CONTACT, { id: c.id });
      await load(`Contact “${c.name}” deleted.`);
    } catch (err) {
      announce(`“${c.name}” was not deleted: ${err.message}`, { error: true });
    }
  }

  async function removeSelected() {
    const ids = [...selected];
    const ok = await confirmAction({
      title: `Delete ${ids.length} contact${ids.length === 1 ? '' : 's'}?`,
      message: 'The selected contacts and their webhooks will be deleted and they leave all their groups.',
      action: `Delete ${ids.length}`,
    });
    if (!ok) return;
    try {
      const { deletedIds, notFoundIds } = (await gql(BATCH_DELETE_CONTACTS, { ids })).batchDeleteContacts;
      const gone = notFoundIds.length ? ` (${notFoundIds.length} had already been deleted)` : '';
      await load(`${deletedIds.length} contact${deletedIds.length === 1 ? '' : 's'} deleted${gone}.`);
    } catch (err) {
      announce(`Nothing was deleted: ${err.message}`, { error: true });
    }
  }

  async function sendTest(c) {
    try {
      const alert = (await gql(TEST_CONTACT, { id: c.id })).testContact;
      announce(`Test message to “${c.name}” queued as alert #${alert.id}; follow it in the Alerts tab.`);
    } catch (err) {
      announce(`Test to “${c.name}” not sent: ${err.message}`, { error: true });
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
    w.hasSecret && el('span', { class: 'tag', title: 'Signed with a secret' }, icon('lock'), 'signed'),
    w.keyword && el('span', { class: 'tag', title: 'Keyword the robot requires' }, icon('key'), w.keyword),
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
      el('legend', {}, `URL ${i + 1}`, guessPlatform(url) && platformBadge(guessPlatform(url))),
      el('div', { class: 'hook-url', 'data-field': `input.webhooks[${i}].url`, 'data-control': 'contact-urls' }, el('code', { class: 'url' }, url), el('p', { class: 'field-error', hidden: true })),
      el(
        'div',
        { class: 'field', 'data-field': `input.webhooks[${i}].secret` },
        el('label', { for: id('secret') }, 'Signing secret ', el('span', { class: 'optional' }, '(optional)')),
        el('input', {
          id: id('secret'),
          name: 'secret',
          type: 'password',
          autocomplete: 'new-password',
          value: v.secret ?? '',
          placeholder: v.hasSecret ? 'Stored: leave empty to keep' : '',
        }),
        v.hasSecret && el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'clearSecret', checked: v.clearSecret }), 'Remove the stored secret'),
        el('p', { class: 'field-error', hidden: true }),
      ),
      el(
        'div',
        { class: 'field', 'data-field': `input.webhooks[${i}].keyword` },
        el('label', { for: id('keyword') }, 'Keyword ', el('span', { class: 'optional' }, '(optional)')),
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
      const verb = editing ? 'updated' : 'created';
      try {
        const saved = editing
          ? (await gql(UPDATE_CONTACT, { id: editing.id, input: input() })).updateContact
          : (await gql(CREATE_CONTACT, { input: input() })).createContact;
        dialog.close();
        onSaved(`Contact “${saved.name}” ${verb}.`);
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
      title.textContent = contact ? `Edit contact “${contact.name}”` : 'New contact';
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
