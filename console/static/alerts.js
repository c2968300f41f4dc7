// The Alerts tab: compose and preview an alert, send it, and watch the history until every
// delivery is final: live over the alertChanged subscription, polling only while the socket is
// refused. The history filters by status, severity, source, labels, title and time, and a failed
// delivery can be retried, one robot or every failed robot of an alert.

import { gql } from './api.js';
import {
  ALERTS, ALERT_CHANGED, ALERT_DELIVERIES, INTEGRATION_NAMES, PREVIEW_ALERT, RETRY_DELIVERY, RETRY_FAILED_DELIVERIES,
  SEND_ALERT,
} from './documents.js';
import { t } from './i18n.js';
import { subscribe } from './live.js';
import {
  MoreList, Pager, RowList, announce, busy, button, clearErrors, clearErrorsAsTyped, debounce, el, fillRows, formatTime,
  icon, showErrors,
} from './ui.js';
import { contactPicker, groupPicker } from './picker.js';
import { previewBody } from './chatview.js';
import { platformBadge } from './platforms.js';
import { KIND_WORDS } from './integrations.js';
import { SILENCE_STATE_WORDS, openSilenceDialog } from './routes.js';

const PAGE_SIZE = 10;
const POLL_MS = 1000;
// While the only deliveries not final are held by quiet hours, which last hours, look less often.
const HELD_POLL_MS = 30000;
// An alert's deliveries a page at a time: one alert may reach thousands of robots.
const DELIVERY_PAGE = 20;

const STATUS_WORDS = {
  PENDING: t('status.alert.pending'),
  SENT: t('status.delivery.sent'),
  FAILED: t('status.alert.failed'),
  DELIVERED: t('status.alert.delivered'),
  PARTIALLY_DELIVERED: t('status.alert.partially_delivered'),
  SILENCED: t('status.alert.silenced'),
  DROPPED: t('status.alert.dropped'),
  HELD: t('status.delivery.held'),
};

// Severities as a row shows them.
const SEVERITY_WORDS = { CRITICAL: t('history.severity.critical'), WARNING: t('history.severity.warning'), INFO: t('history.severity.info') };

// The delivery statuses, in the order an alert's counts are shown.
const DELIVERY_STATUSES = ['PENDING', 'HELD', 'SENT', 'FAILED', 'DROPPED'];

export function alertsTab(panel) {
  const form = panel.querySelector('#alert-form');
  const groups = groupPicker(panel.querySelector('#alert-groups'));
  const contacts = contactPicker(panel.querySelector('#alert-contacts'));
  const preview = panel.querySelector('#preview');
  const previewList = panel.querySelector('#preview-list');
  const previewButton = panel.querySelector('#alert-preview');
  const labels = labelRows(panel.querySelector('#alert-labels'), panel.querySelector('#alert-add-label'));
  labels.set([labels.blank()]);
  const rows = panel.querySelector('#history-rows');
  const live = panel.querySelector('#history-live');
  const statusFilter = panel.querySelector('#history-status');
  const filters = panel.querySelector('#history-filters');
  const pager = new Pager(panel.querySelector('.history .pager'), PAGE_SIZE, loadHistory);
  let active = false;
  let timer;
  // The alertChanged subscription while the tab shows, and whether the socket was refused (then
  // the history polls while anything is pending, as it did before subscriptions).
  let unsubscribe = null;
  let socketDown = false;
  let rendered = '';
  // The rows drawn, by alert id with the alert they show: a row whose alert did not change is kept,
  // with the deliveries its reader paged to.
  let drawn = new Map();
  // Statuses last seen, to announce an alert once when it becomes final.
  const seen = new Map();
  // Reused when the same alert is submitted again after a lost answer, so it is not sent twice;
  // any edit makes it a new alert.
  let idempotencyKey = null;

  // The rows each sent label came from, by its index in the last draft: errors name the index sent.
  let labelRowsSent = [];

  function draft() {
    const f = form.elements;
    // Rows left empty are not sent.
    labelRowsSent = [];
    const sent = [];
    labels.values().forEach((l, i) => {
      if (!l.name && !l.value) return;
      labelRowsSent.push(i);
      sent.push(l);
    });
    return {
      title: f.title.value,
      content: f.content.value,
      severity: f.severity.value,
      format: f.format.value,
      groupIds: groups.ids(),
      contactIds: contacts.ids(),
      labels: sent,
      mentionAll: f.mentionAll.checked,
      mentionContacts: f.mentionContacts.checked,
    };
  }

  /** Moves err's errors at input.labels[k], the k-th label sent, to the row it was typed in. */
  function atLabelRows(err) {
    if (!Array.isArray(err.errors)) return err;
    err.errors = err.errors.map((e) => {
      const field = e.extensions?.field?.replace(/^input\.labels\[(\d+)\]/, (_, k) => `input.labels[${labelRowsSent[Number(k)] ?? k}]`);
      return field ? { ...e, extensions: { ...e.extensions, field } } : e;
    });
    return err;
  }

  // Contacts and groups change in the other tabs: the pickers ask afresh when next used, and keep
  // what is chosen.
  function loadPickers() {
    groups.refresh();
    contacts.refresh();
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
            el('div', { class: 'preview-head' }, platformBadge(m.platform), el('span', { class: 'muted' }, t('history.to', { names: m.contacts.map((c) => c.name).join(', ') }))),
            el('code', { class: 'url' }, m.url),
            // Why nothing would be sent now (a silence), when it would be (quiet hours), or how it is rendered.
            m.note && el('p', { class: 'preview-note' }, m.note),
            previewBody(m.platform, m.body, t('alerts.preview.body', { url: m.url })),
          ),
        ),
      );
      preview.hidden = false;
      announce(t('alerts.preview.ready', { count: messages.length }));
    } catch (err) {
      preview.hidden = true;
      showErrors(form, atLabelRows(err), t('common.noPreview'));
    } finally {
      previewButton.disabled = false;
    }
  }

  async function send() {
    try {
      idempotencyKey ??= randomKey();
      const alert = (await gql(SEND_ALERT, { input: { ...draft(), idempotencyKey } })).sendAlert;
      form.reset();
      labels.set([labels.blank()]);
      idempotencyKey = null;
      preview.hidden = true;
      clearErrors(form);
      announce(t('alerts.accepted', { title: alert.title, id: alert.id }));
      pager.reset();
      await loadHistory();
    } catch (err) {
      showErrors(form, atLabelRows(err), t('alerts.notSent'));
    }
  }

  async function loadHistory() {
    clearTimeout(timer);
    try {
      const status = statusFilter.value || null;
      const asked = JSON.stringify(historyFilter());
      const conn = (await gql(ALERTS, { status, filter: historyFilter(), ...pager.args, deliveries: DELIVERY_PAGE })).alerts;
      // The filters changed meanwhile: their own load shows.
      if (status !== (statusFilter.value || null) || asked !== JSON.stringify(historyFilter())) return;
      clearErrors(filters);
      const alerts = conn.edges.map((e) => e.node);
      // Redraw only on change: a steady table keeps the reader's place and the screen reader quiet.
      const snapshot = JSON.stringify(conn);
      if (snapshot !== rendered) {
        rendered = snapshot;
        const before = drawn;
        drawn = new Map();
        for (const a of alerts) {
          const json = JSON.stringify(a);
          const old = before.get(a.id);
          drawn.set(a.id, old?.json === json ? old : { json, ...row(a, old?.deliveries) });
        }
        const filtered = status || Object.keys(historyFilter()).length > 0;
        fillRows(rows, [...drawn.values()].map((d) => d.tr), filtered ? t('history.noneMatch') : t('history.none'));
        pager.update(conn);
        announceFinished(alerts);
      }
      const unsettled = alerts.filter((a) => a.status === 'PENDING');
      // An alert is PENDING a moment after its last delivery settled (its status is computed after
      // the delivery's is stored): that is no hold, and the next second's look shows it final.
      const onlyHeld = unsettled.length > 0 && unsettled.every((a) => a.deliveryCounts.held > 0 && a.deliveryCounts.pending === 0);
      if (!socketDown) {
        live.textContent = t('history.live');
        return;
      }
      live.textContent = unsettled.length === 0 ? '' : onlyHeld ? t('history.pollingHeld') : t('history.polling');
      if (unsettled.length > 0 && active) timer = setTimeout(loadHistory, onlyHeld ? HELD_POLL_MS : POLL_MS);
    } catch (err) {
      live.textContent = '';
      if (err.errors?.some((e) => e.extensions?.field?.startsWith('filter.'))) {
        showErrors(filters, err, t('history.filterRefused'), { quiet: true });
        return;
      }
      announce(t('history.loadFailed', { error: err.message }), { error: true });
    }
  }

  /** The filter argument the filter fields make; fields left empty are not sent. */
  function historyFilter() {
    const f = filters.elements;
    const filter = {};
    if (f.search.value.trim()) filter.search = f.search.value.trim();
    if (f.severity.value) filter.severity = f.severity.value;
    if (f.source.value === 'direct') filter.direct = true;
    else if (f.source.value) filter.sourceId = f.source.value;
    const labels = f.labels.value.split(',').map((p) => p.trim()).filter(Boolean).map((p) => {
      const [name, ...value] = p.split('=');
      return { name: name.trim(), value: value.join('=').trim() };
    });
    if (labels.length > 0) filter.labels = labels;
    // datetime-local is the browser's local time; the API takes an instant.
    if (f.from.value) filter.from = new Date(f.from.value).toISOString();
    if (f.to.value) filter.to = new Date(f.to.value).toISOString();
    return filter;
  }

  async function loadSources() {
    try {
      const list = (await gql(INTEGRATION_NAMES)).integrations.edges.map((e) => e.node);
      const select = filters.elements.source;
      const chosen = select.value;
      select.replaceChildren(...[...select.options].slice(0, 2), ...list.map((i) => new Option(i.name, i.id)));
      select.value = [...select.options].some((o) => o.value === chosen) ? chosen : '';
    } catch (err) {
      announce(t('history.sourcesFailed', { error: err.message }), { error: true });
    }
  }

  /** Follows the namespace's alerts over the socket; when it is refused, falls back to polling. */
  function listen() {
    unsubscribe = subscribe(ALERT_CHANGED, {}, {
      onData: refreshSoon,
      onDown: () => {
        unsubscribe = null;
        socketDown = true;
        if (active) loadHistory();
      },
    });
  }
  // Events come one per changed alert: one reload answers a burst of them.
  const refreshSoon = debounce(() => active && loadHistory(), 250);
  retried = refreshSoon;

  function announceFinished(alerts) {
    for (const a of alerts) {
      if (seen.get(a.id) === 'PENDING' && a.status !== 'PENDING') announce(t('history.finished', { title: a.title, status: STATUS_WORDS[a.status] }));
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
  // Removing a label row changes the alert without an input event.
  form.addEventListener('click', (event) => {
    if (event.target.closest('[data-remove]')) idempotencyKey = null;
  });
  clearErrorsAsTyped(form);
  previewButton.addEventListener('click', showPreview);
  statusFilter.addEventListener('change', () => {
    pager.reset();
    loadHistory();
  });
  const refilter = () => {
    pager.reset();
    loadHistory();
  };
  filters.addEventListener('change', refilter);
  filters.addEventListener('input', debounce((event) => event.target.type === 'search' && refilter(), 300));
  filters.addEventListener('reset', () => setTimeout(refilter)); // after the fields are cleared
  filters.addEventListener('submit', (event) => event.preventDefault());

  return {
    async show() {
      active = true;
      // The overview's "Show failed alerts" asks for them.
      const asked = sessionStorage.getItem('herald.alertsStatus');
      if (asked) {
        sessionStorage.removeItem('herald.alertsStatus');
        statusFilter.value = asked;
        pager.reset();
      }
      loadPickers();
      loadSources();
      if (!unsubscribe && !socketDown) listen();
      await loadHistory();
    },
    hide() {
      active = false;
      clearTimeout(timer);
      unsubscribe?.();
      unsubscribe = null;
    },
  };
}

// Set by the tab: what a retry made from a row calls, so the history shows its effect at once.
let retried = () => {};

/** Retries every FAILED delivery of an alert. */
async function retryFailed(a, control) {
  control.disabled = true;
  try {
    await gql(RETRY_FAILED_DELIVERIES, { alertId: a.id });
    announce(t('history.retriedAlert', { title: a.title, count: a.deliveryCounts.failed }));
    retried();
  } catch (err) {
    control.disabled = false;
    announce(t('history.retryFailed', { error: err.message }), { error: true });
  }
}

/** Retries one FAILED delivery. */
async function retryOne(d, control) {
  control.disabled = true;
  try {
    await gql(RETRY_DELIVERY, { id: d.id });
    announce(t('history.retriedDelivery', { url: d.url }));
    retried();
  } catch (err) {
    control.disabled = false;
    announce(t('history.retryFailed', { error: err.message }), { error: true });
  }
}

/**
 * The Send form's label rows (name, value, remove), each field's errors shown at
 * input.labels[i].name and .value and the row's own at input.labels[i].
 */
function labelRows(container, addButton) {
  const field = (at, control, extra = {}) => el('div', { class: 'field', 'data-field': at, ...extra }, control, el('p', { class: 'field-error', hidden: true }));
  return new RowList(container, {
    addButton,
    blank: () => ({ name: '', value: '' }),
    read: (row) => ({ name: row.querySelector('[name="labelName"]').value.trim(), value: row.querySelector('[name="labelValue"]').value }),
    render: (l, i) => {
      const at = `input.labels[${i}]`;
      const n = i + 1;
      const input = (name, value, label, placeholder) =>
        el('input', { id: `alert-label-${i}-${name}`, name, class: 'code', value, autocomplete: 'off', spellcheck: 'false', 'aria-label': label, placeholder });
      return el(
        'div',
        { class: 'matcher-row no-op', role: 'group', 'aria-label': t('routes.label.row', { n }), 'data-field': at },
        field(`${at}.name`, input('labelName', l.name, t('routes.label.name', { n }), t('routes.placeholder.name'))),
        field(`${at}.value`, input('labelValue', l.value, t('routes.label.value', { n }), t('routes.placeholder.value')), { class: 'field value' }),
        el('button', { type: 'button', class: 'icon-only remove-row', 'data-remove': true, 'aria-label': t('routes.label.remove', { n }) }, icon('close')),
        el('p', { class: 'field-error', hidden: true }),
      );
    },
  });
}

/**
 * An alert's row, and its deliveries (the MoreList) for the next redraw; before is the deliveries
 * of the row it replaces, whose status filter and pages it keeps.
 */
function row(a, before) {
  const deliveries = deliveryList(a, before);
  const tr = el(
    'tr',
    { 'data-alert': a.id },
    el(
      'th',
      { scope: 'row', 'data-label': t('history.col.alert') },
      el('span', { class: 'name' }, a.title),
      el('span', { class: `severity severity-${a.severity.toLowerCase()}` }, SEVERITY_WORDS[a.severity] ?? a.severity.toLowerCase()),
      a.resolved && el('span', { class: 'resolved-badge', title: t('history.resolvedTitle') }, t('history.resolved')),
      el('span', { class: 'muted meta' }, `#${a.id} · ${formatTime(a.createdAt)}`),
      a.source && el('span', { class: 'muted meta source' }, t('history.from', { name: a.source.name, kind: KIND_WORDS[a.source.kind] ?? a.source.kind })),
      a.routedBy.length > 0 && el('span', { class: 'muted meta routed-by' }, t('history.routedBy', { names: a.routedBy.map((r) => r.name).join(', ') })),
      a.labels.length > 0 &&
        el(
          'ul',
          { class: 'chips labels', 'aria-label': t('common.labels') },
          a.labels.map((l) => el('li', { class: 'label-chip', title: `${l.name}=${l.value}` }, el('span', { class: 'label-name' }, l.name), '=', l.value)),
        ),
    ),
    el('td', { 'data-label': t('common.status') }, statusChip(a.status), a.status === 'SILENCED' && silencedBy(a.silencedBy)),
    el(
      'td',
      { 'data-label': t('history.col.deliveries') },
      a.templateError &&
        el('p', { class: 'template-error' }, el('strong', {}, t('history.templateFailed')), a.templateError),
      a.links.length > 0 &&
        el(
          'ul',
          { class: 'alert-links', 'aria-label': t('history.links') },
          a.links.map((l) => el('li', {}, /^https?:\/\//i.test(l.url) ? el('a', { href: l.url, target: '_blank', rel: 'noopener noreferrer' }, l.text) : l.text)),
        ),
      deliveryCounts(a.deliveryCounts),
      deliveries.filter && el('div', { class: 'inline-field delivery-filter' }, deliveries.filter),
      deliveries.list.list,
      el('div', { class: 'more-row' }, deliveries.list.count, deliveries.list.moreButton),
    ),
    el(
      'td',
      { class: 'actions', 'data-label': t('common.actions'), 'data-requires': 'send' },
      a.deliveryCounts.failed > 0 &&
        button(t('history.retryAlert'), 'send', (event) => retryFailed(a, event.currentTarget), { 'aria-label': t('history.retryAlertLabel', { title: a.title }) }),
      button(t('history.silenceLike'), 'mute', () => silenceLike(a), { 'aria-label': t('history.silenceLikeLabel', { title: a.title }) }),
    ),
  );
  return { tr, deliveries };
}

/** The number of an alert's deliveries in status (null: all). */
function countOf(counts, status) {
  return status ? counts[status.toLowerCase()] : counts.total;
}

/** "3 sent · 1 failed · 2 held": the statuses an alert's deliveries are in, each with its count. */
function deliveryCounts(counts) {
  const chips = DELIVERY_STATUSES.filter((s) => countOf(counts, s) > 0).map((s) =>
    el('li', { class: `status-chip status-${s.toLowerCase()}` }, t('history.statusCount', { count: countOf(counts, s), status: STATUS_WORDS[s].toLowerCase() })),
  );
  return chips.length > 0 && el('ul', { class: 'chips delivery-counts', 'aria-label': t('history.byStatus') }, chips);
}

/**
 * An alert's deliveries, the first page as ALERTS read it and More for the next (the deliveries after
 * the last one shown). Beyond one page, a filter shows those in one status only.
 */
function deliveryList(a, before) {
  const counts = a.deliveryCounts;
  const paged = counts.total > DELIVERY_PAGE;
  const filter =
    paged &&
    el(
      'select',
      { 'aria-label': t('history.deliveriesShown', { title: a.title }), onchange: () => list.reload(0) },
      el('option', { value: '' }, t('history.allDeliveries', { count: counts.total })),
      DELIVERY_STATUSES.filter((s) => countOf(counts, s) > 0).map((s) => el('option', { value: s }, t('history.statusOption', { status: STATUS_WORDS[s], count: countOf(counts, s) }))),
    );
  const status = () => (filter && filter.value) || null;
  // Deliveries are fixed when the alert is accepted, in creation order: the last one shown is
  // where the next page starts, and the count says whether there is one.
  const after = (page, shown, total) => (page.length === DELIVERY_PAGE && shown + page.length < total ? page.at(-1).id : null);
  const list = new MoreList(
    el('ul', { class: 'deliveries' }),
    el('button', { type: 'button', class: 'more', 'aria-label': t('history.moreDeliveriesLabel', { title: a.title }) }, t('history.moreDeliveries')),
    {
      page: async (from, shown) => {
        const fresh = (await gql(ALERT_DELIVERIES, { id: a.id, first: DELIVERY_PAGE, after: from, status: status() })).alert;
        if (!fresh) return { items: [], after: null, total: 0 }; // gone with its history
        const total = countOf(fresh.deliveryCounts, status());
        return { items: fresh.deliveries, after: after(fresh.deliveries, shown, total), total };
      },
      render: delivery,
      empty: () => {
        if (status()) return t('history.noDeliveriesIn', { status: STATUS_WORDS[status()].toLowerCase() });
        return a.status === 'SILENCED' ? t('history.nothingSent') : t('history.noDeliveries');
      },
      count: paged ? el('span', { class: 'range' }) : null,
      onError: (err) => announce(t('history.deliveriesFailed', { title: a.title, error: err.message }), { error: true }),
    },
  );
  list.show({ items: a.deliveries, after: after(a.deliveries, 0, counts.total), total: counts.total });
  // The row this one replaces showed another status or more pages: show them again, afresh.
  const kept = before?.filter ? before.filter.value : '';
  if (filter && kept) {
    if (![...filter.options].some((o) => o.value === kept)) filter.append(el('option', { value: kept }, t('history.statusOption', { status: STATUS_WORDS[kept], count: 0 })));
    filter.value = kept;
  }
  if (status() || (before && before.list.shown > list.shown)) list.reload(before.list.shown);
  return { list, filter };
}

/** Opens New silence with the alert's labels as matchers, to prune; it ends in an hour unless changed. */
function silenceLike(a) {
  openSilenceDialog({ matchers: a.labels.map((l) => ({ label: l.name, op: 'EQ', value: l.value })) });
}

/** What muted a silenced alert: the silence's comment and when it ends (or ended). */
function silencedBy(s) {
  if (!s) return el('p', { class: 'muted silenced-by' }, t('history.silenceGone'));
  const ended = s.state === 'EXPIRED';
  return el('p', { class: 'muted silenced-by' }, ended
    ? t('history.silencedBy.ended', { comment: s.comment, time: formatTime(s.endsAt) })
    : t('history.silencedBy.until', { comment: s.comment, time: formatTime(s.endsAt), state: SILENCE_STATE_WORDS[s.state].toLowerCase() }));
}

/**
 * The attempts' notes (a failed template, a card sent as markdown, a failed mentions message),
 * one line per distinct note with the attempts it was recorded on.
 */
function attemptNotes(attempts) {
  const byNote = new Map();
  attempts.forEach((attempt, i) => {
    if (attempt.note) byNote.set(attempt.note, [...(byNote.get(attempt.note) ?? []), i + 1]);
  });
  return [...byNote].map(([note, numbers]) =>
    el('p', { class: 'delivery-note' }, t('history.attemptNote', { count: numbers.length, numbers: numbers.join(', '), note })),
  );
}

function delivery(d) {
  const last = d.attempts.at(-1);
  const answer = last && [last.httpStatus && `HTTP ${last.httpStatus}`, last.platformCode && t('history.platformCode', { code: last.platformCode })].filter(Boolean).join(', ');
  const tries = t('history.attempts', { count: d.attempts.length }) + (answer ? t('history.lastAnswer', { answer }) : '');
  const error = d.lastError ?? last?.error;
  return el(
    'li',
    { class: 'delivery' },
    el('div', { class: 'delivery-head' }, platformBadge(d.platform), statusChip(d.status), el('span', { class: 'muted' }, tries)),
    el('code', { class: 'url' }, d.url),
    d.contactNames.length > 0 && el('span', { class: 'muted' }, t('history.to', { names: d.contactNames.join(', ') })),
    error && el('p', { class: 'delivery-error' }, error),
    attemptNotes(d.attempts),
    d.status === 'PENDING' && d.nextAttemptAt && el('span', { class: 'muted' }, t('history.nextAttempt', { time: formatTime(d.nextAttemptAt) })),
    d.heldBy && el('span', { class: 'muted held-by' }, heldText(d)),
    d.retriedAt && el('span', { class: 'muted retried-at' }, t('history.retriedAt', { time: formatTime(d.retriedAt) })),
    d.status === 'FAILED' &&
      el('div', { 'data-requires': 'send' },
        button(t('history.retryDelivery'), 'send', (event) => retryOne(d, event.currentTarget), { class: 'small', 'aria-label': t('history.retryDeliveryLabel', { url: d.url }) })),
  );
}

/** Why quiet hours held a delivery, and what came of it. */
function heldText(d) {
  switch (d.status) {
    case 'HELD':
      return d.nextAttemptAt
        ? t('history.held.until', { group: d.heldBy, time: formatTime(d.nextAttemptAt) })
        : t('history.held', { group: d.heldBy });
    case 'DROPPED':
      return t('history.held.dropped', { group: d.heldBy });
    default:
      return t('history.held.released', { group: d.heldBy });
  }
}

function statusChip(status) {
  return el('span', { class: `status-chip status-${status.toLowerCase()}` }, STATUS_WORDS[status] ?? status);
}

/** A random key; crypto.randomUUID exists only in secure contexts and Herald may be served over HTTP. */
function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
