// The Alerts tab: compose and preview an alert, send it, and watch the history until every
// delivery is final.

import { allNodes, gql } from './api.js';
import { ALERTS, ALL_CONTACTS, ALL_GROUPS, PREVIEW_ALERT, SEND_ALERT } from './documents.js';
import {
  Pager, announce, busy, checkedIds, clearErrors, clearErrorsAsTyped, el, fillRows, formatTime, prettyJSON, renderChoices,
  showErrors,
} from './ui.js';
import { platformBadge } from './platforms.js';
import { KIND_WORDS } from './integrations.js';

const PAGE_SIZE = 10;
const POLL_MS = 1000;


const STATUS_WORDS = {
  PENDING: 'Pending',
  SENT: 'Sent',
  FAILED: 'Failed',
  DELIVERED: 'Delivered',
  PARTIALLY_DELIVERED: 'Partially delivered',
};

export function alertsTab(panel) {
  const form = panel.querySelector('#alert-form');
  const groupPicker = panel.querySelector('#alert-groups');
  const contactPicker = panel.querySelector('#alert-contacts');
  const preview = panel.querySelector('#preview');
  const previewList = panel.querySelector('#preview-list');
  const previewButton = panel.querySelector('#alert-preview');
  const rows = panel.querySelector('#history-rows');
  const live = panel.querySelector('#history-live');
  const pager = new Pager(panel.querySelector('.history .pager'), PAGE_SIZE, loadHistory);
  let active = false;
  let timer;
  let rendered = '';
  // Statuses last seen, to announce an alert once when it becomes final.
  const seen = new Map();
  // Reused when the same alert is submitted again after a lost answer, so it is not sent twice;
  // any edit makes it a new alert.
  let idempotencyKey = null;

  function draft() {
    const f = form.elements;
    return {
      title: f.title.value,
      content: f.content.value,
      severity: f.severity.value,
      format: f.format.value,
      groupIds: checkedIds(groupPicker),
      contactIds: checkedIds(contactPicker),
      mentionAll: f.mentionAll.checked,
      mentionContacts: f.mentionContacts.checked,
    };
  }

  async function loadPickers() {
    const keep = (picker) => new Set(checkedIds(picker));
    const [groups, contacts] = await Promise.all([allNodes(ALL_GROUPS, 'groups'), allNodes(ALL_CONTACTS, 'contacts')]);
    renderChoices(groupPicker, groups, {
      name: 'groups',
      selected: keep(groupPicker),
      label: (g) => `${g.name} (${g.contactCount})`,
      empty: 'No groups yet.',
    });
    renderChoices(contactPicker, contacts, { name: 'contacts', selected: keep(contactPicker), label: (c) => c.name, empty: 'No contacts yet.' });
  }

  async function showPreview() {
    previewButton.disabled = true;
    try {
      const messages = (await gql(PREVIEW_ALERT, { input: draft() })).previewAlert;
      clearErrors(form);
      previewList.replaceChildren(
        ...messages.map((m) =>
          el(
            'li',
            { class: 'preview-item' },
            el('div', { class: 'preview-head' }, platformBadge(m.platform), el('span', { class: 'muted' }, `to ${m.contacts.map((c) => c.name).join(', ')}`)),
            el('code', { class: 'url' }, m.url),
            el('pre', { class: 'body', tabindex: 0, 'aria-label': `Message body for ${m.url}` }, prettyJSON(m.body)),
          ),
        ),
      );
      preview.hidden = false;
      announce(`Preview ready: ${messages.length} robot${messages.length === 1 ? '' : 's'} would receive this alert.`);
    } catch (err) {
      preview.hidden = true;
      showErrors(form, err, 'No preview');
    } finally {
      previewButton.disabled = false;
    }
  }

  async function send() {
    try {
      idempotencyKey ??= randomKey();
      const alert = (await gql(SEND_ALERT, { input: { ...draft(), idempotencyKey } })).sendAlert;
      form.reset();
      idempotencyKey = null;
      preview.hidden = true;
      clearErrors(form);
      announce(`Alert “${alert.title}” accepted as #${alert.id}; delivery status updates below.`);
      pager.reset();
      await loadHistory();
    } catch (err) {
      showErrors(form, err, 'Not sent');
    }
  }

  async function loadHistory() {
    clearTimeout(timer);
    try {
      const conn = (await gql(ALERTS, pager.args)).alerts;
      const alerts = conn.edges.map((e) => e.node);
      // Redraw only on change: a steady table keeps the reader's place and the screen reader quiet.
      const snapshot = JSON.stringify(conn);
      if (snapshot !== rendered) {
        rendered = snapshot;
        fillRows(rows, alerts.map(row), 'No alerts sent yet.');
        pager.update(conn);
        announceFinished(alerts);
      }
      const pending = alerts.some((a) => a.status === 'PENDING');
      live.textContent = pending ? 'Updating every second until delivered…' : '';
      if (pending && active) timer = setTimeout(loadHistory, POLL_MS);
    } catch (err) {
      live.textContent = '';
      announce(`Alert history could not be loaded: ${err.message}`, { error: true });
    }
  }

  function announceFinished(alerts) {
    for (const a of alerts) {
      if (seen.get(a.id) === 'PENDING' && a.status !== 'PENDING') announce(`Alert “${a.title}”: ${STATUS_WORDS[a.status]}.`);
      seen.set(a.id, a.status);
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(form, send);
  });
  form.addEventListener('input', () => {
    idempotencyKey = null;
  });
  clearErrorsAsTyped(form);
  previewButton.addEventListener('click', showPreview);

  return {
    async show() {
      active = true;
      await Promise.all([
        loadHistory(),
        loadPickers().catch((err) => announce(`Recipients could not be loaded: ${err.message}`, { error: true })),
      ]);
    },
    hide() {
      active = false;
      clearTimeout(timer);
    },
  };
}

function row(a) {
  return el(
    'tr',
    { 'data-alert': a.id },
    el(
      'th',
      { scope: 'row', 'data-label': 'Alert' },
      el('span', { class: 'name' }, a.title),
      el('span', { class: `severity severity-${a.severity.toLowerCase()}` }, a.severity.toLowerCase()),
      a.resolved && el('span', { class: 'resolved-badge', title: 'A notice that the problem is over' }, 'resolved'),
      el('span', { class: 'muted meta' }, `#${a.id} · ${formatTime(a.createdAt)}`),
      a.source && el('span', { class: 'muted meta source' }, `from ${a.source.name} (${KIND_WORDS[a.source.kind] ?? a.source.kind})`),
      a.labels.length > 0 &&
        el(
          'ul',
          { class: 'chips labels', 'aria-label': 'Labels' },
          a.labels.map((l) => el('li', { class: 'label-chip', title: `${l.name}=${l.value}` }, el('span', { class: 'label-name' }, l.name), '=', l.value)),
        ),
    ),
    el('td', { 'data-label': 'Status' }, statusChip(a.status)),
    el(
      'td',
      { 'data-label': 'Deliveries' },
      a.templateError &&
        el('p', { class: 'template-error' }, el('strong', {}, 'Template failed, sent in the default layout: '), a.templateError),
      a.links.length > 0 &&
        el(
          'ul',
          { class: 'alert-links', 'aria-label': 'Links' },
          a.links.map((l) => el('li', {}, /^https?:\/\//i.test(l.url) ? el('a', { href: l.url, target: '_blank', rel: 'noopener noreferrer' }, l.text) : l.text)),
        ),
      el('ul', { class: 'deliveries' }, a.deliveries.map(delivery)),
    ),
  );
}

/**
 * The attempts' notes (a failed template, a card sent as markdown, a failed mentions message),
 * one line per distinct note with the attempts it was recorded on.
 */
function attemptNotes(attempts) {
  const byNote = new Map();
  attempts.forEach((t, i) => {
    if (t.note) byNote.set(t.note, [...(byNote.get(t.note) ?? []), i + 1]);
  });
  return [...byNote].map(([note, numbers]) =>
    el('p', { class: 'delivery-note' }, `${numbers.length === 1 ? 'Attempt' : 'Attempts'} ${numbers.join(', ')}: ${note}`),
  );
}

function delivery(d) {
  const last = d.attempts.at(-1);
  const answer = last && [last.httpStatus && `HTTP ${last.httpStatus}`, last.platformCode && `code ${last.platformCode}`].filter(Boolean).join(', ');
  const tries = `${d.attempts.length} attempt${d.attempts.length === 1 ? '' : 's'}${answer ? ` · last: ${answer}` : ''}`;
  const error = d.lastError ?? last?.error;
  return el(
    'li',
    { class: 'delivery' },
    el('div', { class: 'delivery-head' }, platformBadge(d.platform), statusChip(d.status), el('span', { class: 'muted' }, tries)),
    el('code', { class: 'url' }, d.url),
    d.contactNames.length > 0 && el('span', { class: 'muted' }, `to ${d.contactNames.join(', ')}`),
    error && el('p', { class: 'delivery-error' }, error),
    attemptNotes(d.attempts),
    d.status === 'PENDING' && d.nextAttemptAt && el('span', { class: 'muted' }, `next attempt ${formatTime(d.nextAttemptAt)}`),
  );
}

function statusChip(status) {
  return el('span', { class: `status-chip status-${status.toLowerCase()}` }, STATUS_WORDS[status] ?? status);
}

/** A random key; crypto.randomUUID exists only in secure contexts and Herald may be served over HTTP. */
function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
