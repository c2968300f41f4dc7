// The Templates tab: the namespace's message templates (paged), the built-in ones (read-only, to
// view or copy), and the editor with its live preview of what each platform's robot would get.

import { gql } from './api.js';
import { t } from './i18n.js';
import {
  BUILTIN_MESSAGE_TEMPLATES, CREATE_MESSAGE_TEMPLATE, DELETE_MESSAGE_TEMPLATE, MESSAGE_TEMPLATE, MESSAGE_TEMPLATES,
  PREVIEW_TEMPLATE, UPDATE_MESSAGE_TEMPLATE,
} from './documents.js';
import {
  Pager, announce, busy, button, clearErrors, clearErrorsAsTyped, confirmAction, debounce, el, fillRows, formatTime,
  icon, openDialog, showErrors,
} from './ui.js';
import { KIND_WORDS } from './integrations.js';
import { previewBody } from './chatview.js';
import { platformBadge } from './platforms.js';

const PAGE_SIZE = 20;
// The live preview waits this long after the last keystroke.
const PREVIEW_DELAY_MS = 300;

export const FORMAT_WORDS = { TEXT: t('format.text'), MARKDOWN: 'Markdown', CARD: t('format.card') };

/** The kind of source a built-in template is the default of: builtin:grafana → GRAFANA. */
function builtinKind(tpl) {
  const kind = tpl.id.replace(/^builtin:/, '').toUpperCase();
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
      fillRows(rows, conn.edges.map((e) => row(e.node)), t('templates.none'));
      pager.update(conn);
      if (done) announce(done);
    } catch (err) {
      announce(`${done ? `${done} ` : ''}${t('templates.loadFailed', { error: err.message })}`, { error: true });
    }
  }

  async function loadBuiltins() {
    try {
      builtins = (await gql(BUILTIN_MESSAGE_TEMPLATES)).builtinMessageTemplates;
      fillRows(builtinRows, builtins.map(builtinRow), t('templates.builtin.none'));
    } catch (err) {
      announce(t('templates.builtin.loadFailed', { error: err.message }), { error: true });
    }
  }

  function formatCell(tpl) {
    return el('td', { 'data-label': t('common.format') }, el('span', { class: `format format-${tpl.format.toLowerCase()}` }, FORMAT_WORDS[tpl.format] ?? tpl.format));
  }

  function row(tpl) {
    return el(
      'tr',
      { 'data-template': tpl.id },
      el('th', { scope: 'row', 'data-label': t('common.name') }, el('span', { class: 'name' }, tpl.name)),
      formatCell(tpl),
      el('td', { 'data-label': t('templates.col.updated') }, el('time', { datetime: tpl.updatedAt }, formatTime(tpl.updatedAt))),
      el(
        'td',
        { class: 'actions', 'data-label': t('common.actions') },
        el(
          'div',
          { class: 'row-actions' },
          button(t('common.view'), 'eye', () => editSaved(tpl, { readOnly: true }), { 'data-unless': 'manage', 'aria-label': t('common.viewLabel', { name: tpl.name }) }),
          button(t('common.edit'), 'edit', () => editSaved(tpl), { 'data-requires': 'manage', 'aria-label': t('common.editLabel', { name: tpl.name }) }),
          button(t('common.delete'), 'trash', () => remove(tpl), { 'data-requires': 'manage', class: 'danger-text', 'aria-label': t('common.deleteLabel', { name: tpl.name }) }),
        ),
      ),
    );
  }

  function builtinRow(tpl) {
    const kind = builtinKind(tpl);
    return el(
      'tr',
      { 'data-template': tpl.id },
      el(
        'th',
        { scope: 'row', 'data-label': t('common.name') },
        el('span', { class: 'name' }, tpl.name),
        el('span', { class: 'tag', title: t('templates.builtin.tagTitle') }, icon('lock'), t('templates.builtin.tag')),
      ),
      formatCell(tpl),
      el('td', { 'data-label': t('templates.builtin.defaultFor') }, kind ? t('templates.builtin.defaultForKind', { kind: KIND_WORDS[kind] }) : el('span', { class: 'muted' }, '—')),
      el(
        'td',
        { class: 'actions', 'data-label': t('common.actions') },
        el(
          'div',
          { class: 'row-actions' },
          button(t('common.view'), 'eye', () => editor.open({ template: tpl, readOnly: true, kind }), { 'aria-label': t('common.viewLabel', { name: tpl.name }) }),
          button(t('common.copy'), 'plus', () => editor.open({ template: copyOf(tpl), kind }), { 'data-requires': 'manage', 'aria-label': t('templates.copyLabel', { name: tpl.name }) }),
        ),
      ),
    );
  }

  /** A new template prefilled from a built-in one. */
  function copyOf(tpl) {
    return { id: null, name: t('templates.copyName', { name: tpl.name.replace(/\s*\(built-in\)$/, '') }), title: tpl.title, body: tpl.body, format: tpl.format };
  }

  /** Opens a saved template, read afresh: the list holds neither its title nor its body. */
  async function editSaved(tpl, { readOnly = false } = {}) {
    try {
      const fresh = (await gql(MESSAGE_TEMPLATE, { id: tpl.id })).messageTemplate;
      if (!fresh) {
        await load(t('templates.deletedMeanwhile', { name: tpl.name }));
        return;
      }
      editor.open({ template: fresh, readOnly });
    } catch (err) {
      announce(t('templates.openFailed', { name: tpl.name, error: err.message }), { error: true });
    }
  }

  async function remove(tpl) {
    const ok = await confirmAction({
      title: t('templates.delete.title'),
      message: t('templates.delete.message', { name: tpl.name }),
      action: t('templates.delete.action'),
    });
    if (!ok) return;
    try {
      await gql(DELETE_MESSAGE_TEMPLATE, { id: tpl.id });
      await load(t('templates.deleted', { name: tpl.name }));
    } catch (err) {
      // CONFLICT while an integration uses it: Herald's message names the integrations.
      announce(t('common.notDeleted', { name: tpl.name, error: err.message }), { error: true });
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
    previewState.textContent = t('templates.rendering');
    try {
      const messages = (await gql(PREVIEW_TEMPLATE, { input: previewInput() })).previewTemplate;
      if (mine !== latest || !dialog.open) return;
      clearErrors(form, PREVIEW_FIELDS);
      previewError.textContent = '';
      previewError.hidden = true;
      previewList.replaceChildren(...messages.map(previewItem));
      markStale(false);
      previewState.textContent = t('templates.platformCount', { count: messages.length });
    } catch (err) {
      if (mine !== latest || !dialog.open) return;
      clearErrors(form, PREVIEW_FIELDS);
      previewError.textContent = '';
      previewError.hidden = true;
      showErrors(form, err, t('common.noPreview'), { quiet: true, fallback: previewError });
      if (err.errors.some((e) => e.extensions?.field === 'input.payload')) payloadBox.open = true;
      markStale(true);
      previewState.textContent = t('templates.notRendered');
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
        onSaved(t(editing ? 'templates.updated' : 'templates.created', { name: saved.name }));
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
      heading.textContent = ro ? t('templates.viewTitle', { name: template.name }) : editing ? t('templates.editTitle', { name: template.name }) : t('templates.new');
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
          ? t('templates.readOnly.builtin')
          : t('templates.readOnly.role');
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
      el('span', { class: `format format-${m.format.toLowerCase()}`, title: t('common.formatTitle') }, FORMAT_WORDS[m.format] ?? m.format),
    ),
    m.note && el('p', { class: 'preview-note' }, m.note),
    previewBody(m.platform, m.body, t('common.receives', { platform: badge.textContent })),
    m.companionBody && [
      el('p', { class: 'muted companion-label' }, t('common.companion')),
      previewBody(m.platform, m.companionBody, t('common.companionReceives', { platform: badge.textContent }), 'body companion'),
    ],
  );
}
