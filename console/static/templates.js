// The Templates tab: the namespace's message templates (paged), the built-in ones (read-only, to
// view or copy), and the editor with its live preview of what each platform's robot would get.

import { gql } from './api.js';
import {
  BUILTIN_MESSAGE_TEMPLATES, CREATE_MESSAGE_TEMPLATE, DELETE_MESSAGE_TEMPLATE, MESSAGE_TEMPLATE, MESSAGE_TEMPLATES,
  PREVIEW_TEMPLATE, UPDATE_MESSAGE_TEMPLATE,
} from './documents.js';
import {
  Pager, announce, busy, button, clearErrors, clearErrorsAsTyped, confirmAction, debounce, el, fillRows, formatTime,
  icon, openDialog, prettyJSON, showErrors,
} from './ui.js';
import { KIND_WORDS } from './integrations.js';
import { platformBadge } from './platforms.js';

const PAGE_SIZE = 20;
// The live preview waits this long after the last keystroke.
const PREVIEW_DELAY_MS = 300;

export const FORMAT_WORDS = { TEXT: 'Text', MARKDOWN: 'Markdown', CARD: 'Card' };

/** The kind of source a built-in template is the default of: builtin:grafana → GRAFANA. */
function builtinKind(t) {
  const kind = t.id.replace(/^builtin:/, '').toUpperCase();
  return KIND_WORDS[kind] ? kind : null;
}

export function templatesTab(panel) {
  const rows = panel.querySelector('#templates-rows');
  const builtinRows = panel.querySelector('#builtin-templates-rows');
  const pager = new Pager(panel.querySelector('.pager'), PAGE_SIZE, load);
  const editor = templateDialog(load);
  let builtins = [];

  // done, when given, is announced once the list shows the change it reports.
  async function load(done) {
    try {
      const conn = (await gql(MESSAGE_TEMPLATES, pager.args)).messageTemplates;
      if (pager.recover(conn)) return load(done); // the templates of this page were deleted
      fillRows(rows, conn.edges.map((e) => row(e.node)), 'No templates yet: create one, or copy a built-in one below.');
      pager.update(conn);
      if (done) announce(done);
    } catch (err) {
      announce(`${done ? `${done} ` : ''}Templates could not be loaded: ${err.message}`, { error: true });
    }
  }

  async function loadBuiltins() {
    try {
      builtins = (await gql(BUILTIN_MESSAGE_TEMPLATES)).builtinMessageTemplates;
      fillRows(builtinRows, builtins.map(builtinRow), 'No built-in templates.');
    } catch (err) {
      announce(`Built-in templates could not be loaded: ${err.message}`, { error: true });
    }
  }

  function formatCell(t) {
    return el('td', { 'data-label': 'Format' }, el('span', { class: `format format-${t.format.toLowerCase()}` }, FORMAT_WORDS[t.format] ?? t.format));
  }

  function row(t) {
    return el(
      'tr',
      { 'data-template': t.id },
      el('th', { scope: 'row', 'data-label': 'Name' }, el('span', { class: 'name' }, t.name)),
      formatCell(t),
      el('td', { 'data-label': 'Updated' }, el('time', { datetime: t.updatedAt }, formatTime(t.updatedAt))),
      el(
        'td',
        { class: 'actions', 'data-label': 'Actions' },
        el(
          'div',
          { class: 'row-actions' },
          button('View', 'eye', () => editSaved(t, { readOnly: true }), { 'data-unless': 'manage', 'aria-label': `View ${t.name}` }),
          button('Edit', 'edit', () => editSaved(t), { 'data-requires': 'manage', 'aria-label': `Edit ${t.name}` }),
          button('Delete', 'trash', () => remove(t), { 'data-requires': 'manage', class: 'danger-text', 'aria-label': `Delete ${t.name}` }),
        ),
      ),
    );
  }

  function builtinRow(t) {
    const kind = builtinKind(t);
    return el(
      'tr',
      { 'data-template': t.id },
      el(
        'th',
        { scope: 'row', 'data-label': 'Name' },
        el('span', { class: 'name' }, t.name),
        el('span', { class: 'tag', title: 'Ships with Herald; it cannot be changed' }, icon('lock'), 'read-only'),
      ),
      formatCell(t),
      el('td', { 'data-label': 'Default for' }, kind ? `${KIND_WORDS[kind]} integrations` : el('span', { class: 'muted' }, '—')),
      el(
        'td',
        { class: 'actions', 'data-label': 'Actions' },
        el(
          'div',
          { class: 'row-actions' },
          button('View', 'eye', () => editor.open({ template: t, readOnly: true, kind }), { 'aria-label': `View ${t.name}` }),
          button('Copy', 'plus', () => editor.open({ template: copyOf(t), kind }), { 'data-requires': 'manage', 'aria-label': `Copy ${t.name}` }),
        ),
      ),
    );
  }

  /** A new template prefilled from a built-in one. */
  function copyOf(t) {
    return { id: null, name: `Copy of ${t.name.replace(/\s*\(built-in\)$/, '')}`, title: t.title, body: t.body, format: t.format };
  }

  /** Opens a saved template, read afresh: the list holds neither its title nor its body. */
  async function editSaved(t, { readOnly = false } = {}) {
    try {
      const fresh = (await gql(MESSAGE_TEMPLATE, { id: t.id })).messageTemplate;
      if (!fresh) {
        await load(`Template “${t.name}” was deleted meanwhile.`);
        return;
      }
      editor.open({ template: fresh, readOnly });
    } catch (err) {
      announce(`Template “${t.name}” could not be opened: ${err.message}`, { error: true });
    }
  }

  async function remove(t) {
    const ok = await confirmAction({
      title: 'Delete template?',
      message: `The template “${t.name}” will be deleted. Herald refuses while an integration uses it.`,
      action: 'Delete template',
    });
    if (!ok) return;
    try {
      await gql(DELETE_MESSAGE_TEMPLATE, { id: t.id });
      await load(`Template “${t.name}” deleted.`);
    } catch (err) {
      // CONFLICT while an integration uses it: Herald's message names the integrations.
      announce(`“${t.name}” was not deleted: ${err.message}`, { error: true });
    }
  }

  panel.querySelector('#new-template').addEventListener('click', () => editor.open({ template: null }));

  return {
    show: () => Promise.all([load(), loadBuiltins()]),
    hide() {},
  };
}

// The fields whose errors the live preview reports; a save's other errors (a taken name) stay.
const PREVIEW_FIELDS = ['input.title', 'input.body', 'input.format', 'input.kind', 'input.payload'];

/**
 * The template editor: name, format, title and body on one side, the live preview on the other.
 * Every change of title, body, format, sample kind or payload renders the unsaved template again
 * once typing pauses; only the latest answer is shown, and when it is an error (a syntax error at
 * its line and column, under its field) the last good preview stays, marked out of date. The
 * dialog stays open with everything typed until a save succeeds.
 */
function templateDialog(onSaved) {
  const dialog = document.getElementById('template-dialog');
  const form = dialog.querySelector('form');
  const heading = dialog.querySelector('#template-dialog-title');
  const { name, format, title, body, kind, payload } = form.elements;
  const save = form.querySelector('[type="submit"]');
  const readOnlyNote = dialog.querySelector('.read-only-note');
  const pane = dialog.querySelector('.preview-pane');
  const payloadBox = dialog.querySelector('details.payload');
  const previewList = dialog.querySelector('#template-preview-list');
  const previewError = dialog.querySelector('.preview-error');
  const previewState = dialog.querySelector('.preview-state');
  const staleNote = dialog.querySelector('.stale-note');
  let editing = null; // the saved template being edited; null for a new one
  let readOnly = false;
  let viewedId = null; // a read-only template is previewed as saved, by id
  let latest = 0; // the newest preview asked for: an older answer is overtaken and dropped

  function previewInput() {
    const input = { kind: kind.value };
    if (payload.value.trim()) input.payload = payload.value;
    if (viewedId) return { ...input, templateId: viewedId };
    return { ...input, title: title.value, body: body.value, format: format.value };
  }

  function markStale(stale) {
    pane.classList.toggle('stale', stale && previewList.children.length > 0);
    staleNote.hidden = !stale || previewList.children.length === 0;
  }

  async function refresh() {
    if (!dialog.open) return;
    const mine = ++latest;
    pane.setAttribute('aria-busy', 'true');
    previewState.textContent = 'Rendering…';
    try {
      const messages = (await gql(PREVIEW_TEMPLATE, { input: previewInput() })).previewTemplate;
      if (mine !== latest || !dialog.open) return;
      clearErrors(form, PREVIEW_FIELDS);
      previewError.textContent = '';
      previewError.hidden = true;
      previewList.replaceChildren(...messages.map(previewItem));
      markStale(false);
      previewState.textContent = `${messages.length} platform${messages.length === 1 ? '' : 's'}`;
    } catch (err) {
      if (mine !== latest || !dialog.open) return;
      clearErrors(form, PREVIEW_FIELDS);
      previewError.textContent = '';
      previewError.hidden = true;
      showErrors(form, err, 'No preview', { quiet: true, fallback: previewError });
      if (err.errors.some((e) => e.extensions?.field === 'input.payload')) payloadBox.open = true;
      markStale(true);
      previewState.textContent = 'Not rendered';
    } finally {
      if (mine === latest) pane.removeAttribute('aria-busy');
    }
  }

  const refreshSoon = debounce(refresh, PREVIEW_DELAY_MS);

  form.addEventListener('input', (event) => {
    if (event.target !== name) refreshSoon();
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (readOnly) return;
    busy(form, async () => {
      const input = { name: name.value.trim(), title: title.value, body: body.value, format: format.value };
      try {
        const saved = editing
          ? (await gql(UPDATE_MESSAGE_TEMPLATE, { id: editing.id, input })).updateMessageTemplate
          : (await gql(CREATE_MESSAGE_TEMPLATE, { input })).createMessageTemplate;
        dialog.close();
        onSaved(`Template “${saved.name}” ${editing ? 'updated' : 'created'}.`);
      } catch (err) {
        showErrors(form, err);
        markStale(err.errors.some((e) => PREVIEW_FIELDS.includes(e.extensions?.field)));
      }
    });
  });
  dialog.addEventListener('close', () => {
    latest++; // an answer still on its way is for a closed editor
  });
  clearErrorsAsTyped(form);

  return {
    /**
     * Opens the editor on template (null: a new, empty one; without an id: a new one prefilled,
     * a built-in's copy), previewed with kind's sample; readOnly shows it without saving.
     */
    open({ template, readOnly: ro = false, kind: sample = null }) {
      editing = template?.id && !ro ? template : null;
      readOnly = ro;
      viewedId = ro ? template.id : null;
      form.reset();
      clearErrors(form);
      heading.textContent = ro ? `Template “${template.name}”` : editing ? `Edit template “${template.name}”` : 'New template';
      name.value = template?.name ?? '';
      format.value = template?.format ?? 'MARKDOWN';
      title.value = template?.title ?? '';
      body.value = template?.body ?? '';
      kind.value = sample ?? 'ALERTMANAGER';
      payload.value = '';
      payloadBox.open = false;
      for (const field of [name, title, body]) field.readOnly = ro;
      format.disabled = ro;
      save.hidden = ro;
      readOnlyNote.hidden = !ro;
      if (ro) {
        readOnlyNote.textContent = template.id.startsWith('builtin:')
          ? 'Built-in templates cannot be changed: copy one to make it your own. The preview renders it as saved.'
          : 'Only an admin may change templates. The preview renders it as saved.';
      }
      previewList.replaceChildren();
      previewError.hidden = true;
      markStale(false);
      previewState.textContent = '';
      openDialog(dialog, ro ? kind : name);
      refresh();
    },
  };
}

/** One platform's message: its format, the note when there is one, and the bodies it is sent as. */
function previewItem(m) {
  const badge = platformBadge(m.platform);
  return el(
    'li',
    { class: 'preview-item', 'data-platform': m.platform },
    el(
      'div',
      { class: 'preview-head' },
      badge,
      el('span', { class: `format format-${m.format.toLowerCase()}`, title: 'The format this platform gets' }, FORMAT_WORDS[m.format] ?? m.format),
    ),
    m.note && el('p', { class: 'preview-note' }, m.note),
    el('pre', { class: 'body', tabindex: 0, 'aria-label': `What ${badge.textContent} receives` }, prettyJSON(m.body)),
    m.companionBody && [
      el('p', { class: 'muted companion-label' }, 'Followed by a text message with the mentions:'),
      el('pre', { class: 'body companion', tabindex: 0, 'aria-label': `The mentions message ${badge.textContent} receives next` }, prettyJSON(m.companionBody)),
    ],
  );
}
