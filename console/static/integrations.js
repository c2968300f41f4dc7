// The Integrations tab: alert sources (Alertmanager, Grafana, scripts) that post to their own hook
// URL. The paged list, the create/edit dialog, delete, token rotation, and the shown-once panel
// with the token, the URL and a snippet to paste into the source.

import { allNodes, gql } from './api.js';
import {
  ALL_MESSAGE_TEMPLATES, BUILTIN_MESSAGE_TEMPLATES, CREATE_INTEGRATION, DELETE_INTEGRATION,
  INTEGRATION, INTEGRATIONS, ROTATE_INTEGRATION_TOKEN, SEND_SAMPLE_NOTIFICATION, UPDATE_INTEGRATION,
} from './documents.js';
import { t } from './i18n.js';
import {
  Pager, announce, busy, button, clearErrors, clearErrorsAsTyped, confirmAction, el, fillRows, formatTime,
  icon, openDialog, showErrors,
} from './ui.js';
import { contactPicker, groupPicker } from './picker.js';

const PAGE_SIZE = 20;

export const KIND_WORDS = {
  ALERTMANAGER: 'Alertmanager',
  GRAFANA: 'Grafana',
  GENERIC: t('kind.generic'),
};

export function integrationsTab(panel) {
  const rows = panel.querySelector('#integrations-rows');
  const pager = new Pager(panel.querySelector('.pager'), PAGE_SIZE, load);
  const shownOnce = tokenDialog();
  const dialog = integrationDialog(load, shownOnce);

  // done, when given, is announced once the list shows the change it reports.
  async function load(done) {
    try {
      const conn = (await gql(INTEGRATIONS, pager.args)).integrations;
      if (pager.recover(conn)) return load(done); // the integrations of this page were deleted
      fillRows(rows, conn.edges.map((e) => row(e.node)), t('integrations.none'));
      pager.update(conn);
      if (done) announce(done);
    } catch (err) {
      announce(`${done ? `${done} ` : ''}${t('integrations.loadFailed', { error: err.message })}`, { error: true });
    }
  }

  function row(i) {
    const options = [t('integrations.meta.times', { zone: i.timeZone }), i.sendResolved ? t('integrations.meta.resolvedSent') : t('integrations.meta.resolvedSkipped')];
    if (i.mentionContacts) options.push(t('integrations.meta.mentions'));
    if (i.routeByLabels) options.push(t('integrations.meta.routed'));
    return el(
      'tr',
      { 'data-integration': i.id },
      el(
        'th',
        { scope: 'row', 'data-label': t('common.name') },
        el('span', { class: 'name' }, i.name),
        el('span', { class: 'muted meta' }, options.join(' · ')),
        el('span', { class: 'muted meta template-name' }, i.template ? t('integrations.meta.template', { name: i.template.name }) : t('integrations.meta.templateBuiltin')),
      ),
      el(
        'td',
        { 'data-label': t('integrations.col.kind') },
        el('span', { class: `kind kind-${i.kind.toLowerCase()}` }, KIND_WORDS[i.kind] ?? i.kind),
        i.hasSigningSecret && el('span', { class: 'tag', title: t('integrations.signedTitle') }, icon('lock'), t('contacts.hook.signed')),
      ),
      el('td', { 'data-label': t('common.recipients') }, recipients(i)),
      el(
        'td',
        { 'data-label': t('integrations.col.lastReceived'), class: 'received' },
        i.lastReceivedAt ? el('time', { datetime: i.lastReceivedAt }, formatTime(i.lastReceivedAt)) : el('span', { class: 'muted' }, t('integrations.never')),
      ),
      el('td', { 'data-label': t('common.hookURL') }, el('code', { class: 'url' }, i.url)),
      el(
        'td',
        { class: 'actions', 'data-label': t('common.actions'), 'data-requires': 'manage' },
        el(
          'div',
          { class: 'row-actions' },
          button(t('integrations.sample'), 'send', (event) => sendSample(i, event.currentTarget), { 'aria-label': t('integrations.sampleLabel', { name: i.name }) }),
          button(t('common.edit'), 'edit', () => dialog.open(i), { 'aria-label': t('common.editLabel', { name: i.name }) }),
          button(t('integrations.rotate'), 'key', () => rotate(i), { 'aria-label': t('integrations.rotateLabel', { name: i.name }) }),
          button(t('common.delete'), 'trash', () => remove(i), { class: 'danger-text', 'aria-label': t('common.deleteLabel', { name: i.name }) }),
        ),
      ),
    );
  }

  async function remove(i) {
    const ok = await confirmAction({
      title: t('integrations.delete.title'),
      message: t('integrations.delete.message', { name: i.name }),
      action: t('integrations.delete.action'),
    });
    if (!ok) return;
    try {
      await gql(DELETE_INTEGRATION, { id: i.id });
      await load(t('integrations.deleted', { name: i.name }));
    } catch (err) {
      announce(t('common.notDeleted', { name: i.name, error: err.message }), { error: true });
    }
  }

  /** Sends the kind's sample notification as the hook would take it, to try the integration. */
  async function sendSample(i, control) {
    control.disabled = true;
    try {
      const alert = (await gql(SEND_SAMPLE_NOTIFICATION, { id: i.id })).sendSampleNotification;
      announce(t('integrations.sampleSent', { name: i.name, id: alert.id, title: alert.title }));
    } catch (err) {
      announce(t('integrations.sampleFailed', { name: i.name, error: err.message }), { error: true });
    } finally {
      control.disabled = false;
    }
  }

  async function rotate(i) {
    const ok = await confirmAction({
      title: t('integrations.rotate.title'),
      message: t('integrations.rotate.message', { name: i.name }),
      action: t('integrations.rotate'),
    });
    if (!ok) return;
    try {
      const created = (await gql(ROTATE_INTEGRATION_TOKEN, { id: i.id })).rotateIntegrationToken;
      shownOnce.open(created, { rotated: true });
      await load(t('integrations.rotated', { name: i.name }));
    } catch (err) {
      announce(t('integrations.rotateFailed', { name: i.name, error: err.message }), { error: true });
    }
  }

  panel.querySelector('#new-integration').addEventListener('click', () => dialog.open(null));

  return { show: load, hide() {} };
}

function recipients(i) {
  const line = (label, items, kind) =>
    items.length > 0 &&
    el(
      'div',
      { class: 'recipient-line' },
      el('span', { class: 'muted recipient-kind' }, label),
      el('ul', { class: 'chips' }, items.map((x) => el('li', { class: `chip chip-${kind}` }, x.name))),
    );
  const lines = [line(t('common.groups'), i.groups, 'group'), line(t('common.contacts'), i.contacts, 'contact')].filter(Boolean);
  if (i.routeByLabels) {
    return [el('span', { class: 'muted recipient-routed' }, lines.length ? t('integrations.routedFallback') : t('integrations.routedOnly')), ...lines];
  }
  return lines.length ? lines : el('span', { class: 'muted' }, t('common.noRecipients'));
}

/**
 * The create/edit dialog. It stays open with everything typed until a save succeeds; a created
 * integration's token is then shown once.
 */
function integrationDialog(onSaved, shownOnce) {
  const dialog = document.getElementById('integration-dialog');
  const form = dialog.querySelector('form');
  const title = dialog.querySelector('#integration-dialog-title');
  const { name, kind, sendResolved, mentionContacts, routeByLabels, timeZone, signingSecret, clearSecret, templateId } = form.elements;
  const groups = groupPicker(dialog.querySelector('#integration-groups'));
  const contacts = contactPicker(dialog.querySelector('#integration-contacts'));
  const secretField = dialog.querySelector('#integration-secret-field');
  const clearSecretLabel = dialog.querySelector('#integration-clear-secret');
  const recipientsBox = dialog.querySelector('.recipients');
  let editing = null; // the integration as last read, when editing
  let builtinNames = null; // the built-in templates' names by id, once read
  let templates = []; // the namespace's templates, once read for this opening
  let openings = 0; // counts the openings, so that a late answer is for the one still open

  /** Routed by labels, its own groups and contacts are only the fallback, and may be none. */
  function showRecipientsOptional() {
    for (const legend of recipientsBox.querySelectorAll('legend')) {
      legend.querySelector('.optional')?.remove();
      if (routeByLabels.checked) legend.append(' ', el('span', { class: 'optional' }, t('integrations.fallbackOptional')));
    }
  }

  function showSecretField() {
    secretField.hidden = kind.value !== 'GRAFANA';
    clearSecretLabel.hidden = !editing?.hasSigningSecret;
    signingSecret.placeholder = editing?.hasSigningSecret ? t('common.secretStored') : '';
  }

  /**
   * Fills the template select: the kind's built-in first (the empty value: no template of its
   * own), then the namespace's templates. selected is kept where it is still listed.
   */
  function renderTemplates(selected) {
    const builtinId = `builtin:${kind.value.toLowerCase()}`;
    const builtin = new Option(builtinNames?.get(builtinId) ?? t('integrations.builtinOption', { kind: KIND_WORDS[kind.value] ?? kind.value }), '');
    const own = templates.map((tpl) => new Option(tpl.name, tpl.id));
    templateId.replaceChildren(builtin, ...(own.length ? [el('optgroup', { label: t('integrations.thisNamespace') }, own)] : []));
    templateId.value = own.some((o) => o.value === selected) ? selected : '';
  }

  /** The API input from the form. On create, empty optional fields are left out. */
  function input() {
    const out = {
      name: name.value.trim(),
      groupIds: groups.ids(),
      contactIds: contacts.ids(),
      sendResolved: sendResolved.checked,
      mentionContacts: mentionContacts.checked,
      routeByLabels: routeByLabels.checked,
    };
    const zone = timeZone.value.trim();
    if (zone || editing) out.timeZone = zone || 'UTC';
    if (!editing) out.kind = kind.value;
    // On update an empty value returns to the kind's built-in.
    if (templateId.value || editing) out.templateId = templateId.value;
    if (kind.value === 'GRAFANA') {
      if (signingSecret.value) out.signingSecret = signingSecret.value;
      else if (editing?.hasSigningSecret && clearSecret.checked) out.signingSecret = '';
    }
    return out;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(form, async () => {
      try {
        if (editing) {
          const saved = (await gql(UPDATE_INTEGRATION, { id: editing.id, input: input() })).updateIntegration;
          dialog.close();
          onSaved(t('integrations.updated', { name: saved.name }));
          return;
        }
        const sent = input();
        const created = (await gql(CREATE_INTEGRATION, { input: sent })).createIntegration;
        dialog.close();
        shownOnce.open(created, { signed: sent.signingSecret != null });
        onSaved(t('integrations.createdCopy', { name: created.integration.name }));
      } catch (err) {
        showErrors(form, err);
      }
    });
  });
  kind.addEventListener('change', () => {
    showSecretField();
    renderTemplates(templateId.value);
  });
  routeByLabels.addEventListener('change', () => {
    routeByLabels.dataset.touched = 'yes';
    showRecipientsOptional();
  });
  clearSecret.addEventListener('change', () => {
    signingSecret.disabled = clearSecret.checked;
    if (clearSecret.checked) signingSecret.value = '';
  });
  clearErrorsAsTyped(form);

  /**
   * Reads the template choices for this opening: the built-ins' names (once) and the namespace's
   * templates; freshRead is the integration as read afresh (null when creating).
   */
  async function loadTemplates(opening, freshRead) {
    const error = dialog.querySelector('[data-field="input.templateId"] > .field-error');
    try {
      const [names, all, fresh] = await Promise.all([
        builtinNames ?? gql(BUILTIN_MESSAGE_TEMPLATES).then((d) => new Map(d.builtinMessageTemplates.map((t) => [t.id, t.name]))),
        allNodes(ALL_MESSAGE_TEMPLATES, 'messageTemplates'),
        freshRead,
      ]);
      if (opening !== openings || !dialog.open) return; // closed, or opened again since
      builtinNames = names;
      templates = all;
      // What the user chose meanwhile wins over what was stored.
      renderTemplates(templateId.dataset.touched ? templateId.value : fresh?.template?.id ?? templateId.value);
    } catch (err) {
      if (opening !== openings) return;
      error.textContent = t('templates.loadFailed', { error: err.message });
      error.hidden = false;
    }
  }
  templateId.addEventListener('change', () => {
    templateId.dataset.touched = 'yes';
  });

  return {
    async open(integration) {
      editing = integration;
      delete templateId.dataset.touched;
      delete routeByLabels.dataset.touched;
      form.reset();
      clearErrors(form);
      signingSecret.disabled = false;
      title.textContent = integration ? t('integrations.editTitle', { name: integration.name }) : t('integrations.new');
      name.value = integration?.name ?? '';
      kind.value = integration?.kind ?? 'ALERTMANAGER';
      kind.disabled = integration != null;
      sendResolved.checked = integration?.sendResolved ?? true;
      mentionContacts.checked = integration?.mentionContacts ?? false;
      routeByLabels.checked = integration?.routeByLabels ?? false;
      showRecipientsOptional();
      timeZone.value = integration?.timeZone ?? 'UTC';
      showSecretField();
      // Until the list is read, the select offers the built-in and the template the row names,
      // so a save meanwhile keeps the template as it is.
      templates = integration?.template ? [integration.template] : [];
      renderTemplates(integration?.template?.id ?? '');
      // The row's recipients until the fresh read comes.
      groups.set(integration?.groups ?? []);
      contacts.set(integration?.contacts ?? []);
      openDialog(dialog, name);
      const opening = ++openings;
      // Recipients and template are read afresh: the row may be older than someone else's edit.
      const freshRead = integration ? gql(INTEGRATION, { id: integration.id }).then((d) => d.integration) : Promise.resolve(null);
      loadTemplates(opening, freshRead);
      try {
        const fresh = await freshRead;
        if (opening !== openings || !dialog.open) return;
        if (integration && !fresh) {
          dialog.close();
          onSaved(t('integrations.deletedMeanwhile', { name: integration.name }));
          return;
        }
        if (fresh) {
          editing = fresh;
          showSecretField();
          if (!routeByLabels.dataset.touched) {
            routeByLabels.checked = fresh.routeByLabels;
            showRecipientsOptional();
          }
          // What the user chose meanwhile wins over what was stored.
          if (!groups.touched) groups.set(fresh.groups);
          if (!contacts.touched) contacts.set(fresh.contacts);
        }
      } catch (err) {
        if (opening !== openings) return;
        const error = recipientsBox.querySelector(':scope > .field-error');
        error.textContent = t('integrations.rereadFailed', { error: err.message });
        error.hidden = false;
      }
    },
  };
}

// ---- The shown-once panel ----

/** Quotes a string for YAML's single-quoted style. */
function yamlQuote(s) {
  return `'${s.replaceAll("'", "''")}'`;
}

/** Quotes a string for a POSIX shell. */
function shellQuote(s) {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

const GENERIC_EXAMPLE = '{"title":"Nightly backup failed","content":"exit code 2","severity":"critical","labels":{"job":"nightly"}}';

/** What to paste into the source: a title, a hint and the text itself. */
export function snippetFor(kind, { url, token, signed }) {
  switch (kind) {
    case 'ALERTMANAGER':
      return {
        title: t('integrations.snippet.alertmanager.title'),
        hint: t('integrations.snippet.alertmanager.hint'),
        text: [
          'receivers:',
          '  - name: herald',
          '    webhook_configs:',
          `      - url: ${yamlQuote(url)}`,
          '        send_resolved: true',
          '        http_config:',
          '          authorization:',
          '            type: Bearer',
          `            credentials: ${yamlQuote(token)}`,
        ].join('\n'),
      };
    case 'GRAFANA': {
      const lines = [
        'Integration: Webhook',
        `URL: ${url}`,
        'HTTP method: POST',
        'Authorization header - scheme: Bearer',
        `Authorization header - credentials: ${token}`,
      ];
      if (signed) {
        lines.push(
          'HMAC signature - secret: the signing secret given to Herald',
          'HMAC signature - header: X-Grafana-Alerting-Signature',
          'HMAC signature - timestamp header: X-Grafana-Alerting-Timestamp',
        );
      }
      return {
        title: t('integrations.snippet.grafana.title'),
        hint: t('integrations.snippet.grafana.hint'),
        text: lines.join('\n'),
      };
    }
    default:
      return {
        title: 'curl',
        hint: t('integrations.snippet.generic.hint'),
        text: `curl -X POST ${shellQuote(url)} -H ${shellQuote(`Authorization: Bearer ${token}`)} -H 'Content-Type: application/json' -d ${shellQuote(GENERIC_EXAMPLE)}`,
      };
  }
}

// What each Copy button copies, as its announcement names it.
const COPIED_WHAT = {
  'integration-token': t('integrations.what.token'),
  'integration-url': t('integrations.what.url'),
  'integration-snippet': t('integrations.what.configuration'),
};

/** The dialog that shows a new token once, with the hook URL and the snippet for its kind. */
function tokenDialog() {
  const dialog = document.getElementById('integration-token-dialog');
  const form = dialog.querySelector('form');
  const title = dialog.querySelector('#integration-token-title');
  const tokenInput = dialog.querySelector('#integration-token');
  const urlInput = dialog.querySelector('#integration-url');
  const snippetTitle = dialog.querySelector('#integration-snippet-title');
  const snippetHint = dialog.querySelector('#integration-snippet-hint');
  const snippet = dialog.querySelector('#integration-snippet');
  const copyStatus = dialog.querySelector('.copy-status');

  form.addEventListener('submit', (event) => event.preventDefault());
  for (const b of dialog.querySelectorAll('[data-copy]')) {
    b.addEventListener('click', async () => {
      const source = document.getElementById(b.dataset.copy);
      const what = COPIED_WHAT[b.dataset.copy];
      const copied = await copyText(source instanceof HTMLInputElement ? source.value : source.textContent, dialog);
      copyStatus.textContent = copied ? t('integrations.copied', { what }) : t('integrations.copyFailed', { what });
      copyStatus.classList.toggle('error', !copied);
    });
  }
  // The token must not linger in the page once the dialog is closed.
  dialog.addEventListener('close', () => {
    tokenInput.value = '';
    snippet.textContent = '';
  });

  return {
    open({ integration: i, token }, { rotated = false, signed = i.hasSigningSecret } = {}) {
      title.textContent = rotated ? t('integrations.newTokenTitle', { name: i.name }) : t('integrations.createdTitle', { name: i.name });
      tokenInput.value = token;
      urlInput.value = i.url;
      const s = snippetFor(i.kind, { url: i.url, token, signed });
      snippetTitle.textContent = s.title;
      snippetHint.textContent = s.hint;
      snippet.textContent = s.text;
      copyStatus.textContent = '';
      openDialog(dialog, dialog.querySelector('[data-copy="integration-token"]'));
    },
  };
}

/**
 * Copies text to the clipboard. The Clipboard API exists only in secure contexts and Herald may
 * be served over plain HTTP: then a selected text area inside the (modal, so the rest is inert)
 * dialog is copied the old way.
 */
async function copyText(text, dialog) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = el('textarea', { class: 'visually-hidden', readonly: true, 'aria-hidden': 'true', tabindex: '-1' });
    area.value = text;
    dialog.append(area);
    const focused = document.activeElement;
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    area.remove();
    focused?.focus?.();
    return ok;
  }
}
