// The Routes & Silences tab: the routes in the order they are tried (create/edit, delete, move), the
// Test labels panel (testRoute), and the silences (listed by state, New silence, Expire). The New
// silence dialog is shared with the Alerts tab's "Silence alerts like this".

import { ApiError, allNodes, gql } from './api.js';
import { t } from './i18n.js';
import {
  ALL_MESSAGE_TEMPLATES, CREATE_ROUTE, CREATE_SILENCE, DELETE_ROUTE, EXPIRE_SILENCE, MOVE_ROUTE,
  ROUTE, ROUTES, SILENCES, TEST_ROUTE, UPDATE_ROUTE,
} from './documents.js';
import {
  RowList, announce, busy, button, clearErrors, clearErrorsAsTyped, confirmAction, el, fillRows, formatTime, icon,
  openDialog, showErrors,
} from './ui.js';
import { contactPicker, groupPicker } from './picker.js';

// How Alertmanager writes each operator, and what it says.
const OPS = {
  EQ: ['=', t('routes.op.eq')],
  NEQ: ['!=', t('routes.op.neq')],
  REGEX: ['=~', t('routes.op.regex')],
  NOT_REGEX: ['!~', t('routes.op.notRegex')],
};

export const SILENCE_STATE_WORDS = { ACTIVE: t('silences.state.active'), PENDING: t('silences.state.pending'), EXPIRED: t('silences.state.expired') };

const POLICY_WORDS = { DIGEST: t('routes.policy.digest'), DROP: t('groups.thenDropped') };

// How long a new silence lasts, in milliseconds, by the duration select's values.
const DURATIONS = { '1h': 3600e3, '4h': 4 * 3600e3, '1d': 24 * 3600e3, '1w': 7 * 24 * 3600e3 };

/** A matcher as Alertmanager writes it: team="db", env=~"prod|stage". */
export function matcherText(m) {
  return `${m.label}${OPS[m.op]?.[0] ?? m.op}${JSON.stringify(m.value)}`;
}

/** Matchers as chips of Alertmanager's syntax; none reads as empty. */
export function matcherChips(matchers, empty) {
  if (matchers.length === 0) return el('span', { class: 'muted' }, empty);
  return el('ul', { class: 'chips matchers', 'aria-label': t('common.matchers') }, matchers.map((m) => el('li', {}, el('code', { class: 'matcher' }, matcherText(m)))));
}

function nameChips(label, items, kind) {
  return (
    items.length > 0 &&
    el(
      'div',
      { class: 'recipient-line' },
      el('span', { class: 'muted recipient-kind' }, label),
      el('ul', { class: 'chips' }, items.map((x) => el('li', { class: `chip chip-${kind}` }, x.name))),
    )
  );
}

/**
 * Rows of matchers (label, operator, value) or, without withOp, of labels (name, value), each
 * field's errors shown at `${path}[i].label` (or `.name`), `.op` and `.value`.
 */
function matcherRows(container, addButton, { path, idPrefix, withOp = true, min = 0 }) {
  const nameKey = withOp ? 'label' : 'name';
  const field = (at, control, extra = {}) => el('div', { class: 'field', 'data-field': at, ...extra }, control, el('p', { class: 'field-error', hidden: true }));
  return new RowList(container, {
    addButton,
    min,
    blank: () => ({ label: '', op: 'EQ', value: '' }),
    read: (row) => ({
      label: row.querySelector('[name="label"]').value.trim(),
      op: row.querySelector('[name="op"]')?.value ?? 'EQ',
      value: row.querySelector('[name="value"]').value,
    }),
    render: (m, i) => {
      const at = `${path}[${i}]`;
      const n = i + 1;
      return el(
        'div',
        { class: `matcher-row${withOp ? '' : ' no-op'}`, role: 'group', 'aria-label': withOp ? t('routes.matcher.row', { n }) : t('routes.label.row', { n }), 'data-field': at },
        field(
          `${at}.${nameKey}`,
          el('input', {
            id: `${idPrefix}-${i}-label`, name: 'label', class: 'code', value: m.label, autocomplete: 'off', spellcheck: 'false',
            'aria-label': withOp ? t('routes.matcher.label', { n }) : t('routes.label.name', { n }),
            placeholder: withOp ? t('routes.placeholder.label') : t('routes.placeholder.name'),
          }),
        ),
        withOp &&
          field(
            `${at}.op`,
            el(
              'select',
              { id: `${idPrefix}-${i}-op`, name: 'op', 'aria-label': t('routes.matcher.op', { n }) },
              Object.entries(OPS).map(([op, [sign, words]]) => el('option', { value: op, selected: op === m.op }, `${sign}  ${words}`)),
            ),
            { class: 'field op' },
          ),
        field(
          `${at}.value`,
          el('input', {
            id: `${idPrefix}-${i}-value`, name: 'value', class: 'code', value: m.value, autocomplete: 'off', spellcheck: 'false',
            'aria-label': withOp ? t('routes.matcher.value', { n }) : t('routes.label.value', { n }),
            placeholder: t('routes.placeholder.value'),
          }),
          { class: 'field value' },
        ),
        el('button', { type: 'button', class: 'icon-only remove-row', 'data-remove': true, 'aria-label': withOp ? t('routes.matcher.remove', { n }) : t('routes.label.remove', { n }) }, icon('close')),
        el('p', { class: 'field-error', hidden: true }),
      );
    },
  });
}

export function routesTab(panel) {
  const rows = panel.querySelector('#routes-rows');
  const dialog = routeDialog(load);
  let routes = [];

  // done, when given, is announced once the list shows the change it reports.
  async function load(done) {
    try {
      render((await gql(ROUTES)).routes);
      if (done) announce(done);
    } catch (err) {
      announce(`${done ? `${done} ` : ''}${t('routes.loadFailed', { error: err.message })}`, { error: true });
    }
  }

  function render(list) {
    routes = list;
    fillRows(rows, list.map(row), t('routes.none'));
  }

  function row(r, i) {
    return el(
      'tr',
      { 'data-route': r.id },
      el('td', { 'data-label': t('routes.field.position'), class: 'position' }, String(r.position)),
      el('th', { scope: 'row', 'data-label': t('common.name') }, el('span', { class: 'name' }, r.name)),
      el('td', { 'data-label': t('common.matchers') }, matcherChips(r.matchers, t('routes.everyAlert'))),
      el('td', { 'data-label': t('common.recipients') }, nameChips(t('common.groups'), r.groups, 'group'), nameChips(t('common.contacts'), r.contacts, 'contact')),
      el('td', { 'data-label': t('routes.col.continue') }, r.continue ? el('span', { class: 'tag', title: t('routes.continueTitle') }, t('routes.continueTag')) : el('span', { class: 'muted' }, t('routes.stops'))),
      el('td', { 'data-label': t('common.template') }, r.template ? r.template.name : el('span', { class: 'muted' }, t('common.none'))),
      el(
        'td',
        { class: 'actions', 'data-label': t('common.actions'), 'data-requires': 'manage' },
        el(
          'div',
          { class: 'row-actions' },
          button(t('routes.moveUp'), 'up', () => move(r, -1), { 'aria-label': t('routes.moveUpLabel', { name: r.name }), 'data-move': 'up', disabled: i === 0 }),
          button(t('routes.moveDown'), 'down', () => move(r, 1), { 'aria-label': t('routes.moveDownLabel', { name: r.name }), 'data-move': 'down', disabled: i === routes.length - 1 }),
          button(t('common.edit'), 'edit', () => dialog.open(r), { 'aria-label': t('common.editLabel', { name: r.name }) }),
          button(t('common.delete'), 'trash', () => remove(r), { class: 'danger-text', 'aria-label': t('common.deleteLabel', { name: r.name }) }),
        ),
      ),
    );
  }

  /** Moves a route one place and keeps focus on its move buttons, so a keyboard user can go on. */
  async function move(r, by) {
    const direction = by < 0 ? 'up' : 'down';
    try {
      render((await gql(MOVE_ROUTE, { id: r.id, position: r.position + by })).moveRoute);
      const moved = rows.querySelector(`tr[data-route="${CSS.escape(r.id)}"]`);
      const buttons = [...(moved?.querySelectorAll('[data-move]') ?? [])];
      (buttons.find((b) => b.dataset.move === direction && !b.disabled) ?? buttons.find((b) => !b.disabled))?.focus();
      const now = routes.find((x) => x.id === r.id);
      const at = now?.position ?? r.position + by;
      announce(t(by < 0 ? 'routes.movedUp' : 'routes.movedDown', { name: r.name, ordinal: ordinal(at), n: at }));
    } catch (err) {
      announce(t('routes.moveFailed', { name: r.name, error: err.message }), { error: true });
      await load();
    }
  }

  async function remove(r) {
    const ok = await confirmAction({
      title: t('routes.delete.title'),
      message: t('routes.delete.message', { name: r.name }),
      action: t('routes.delete.action'),
    });
    if (!ok) return;
    try {
      await gql(DELETE_ROUTE, { id: r.id });
      await load(t('routes.deleted', { name: r.name }));
    } catch (err) {
      announce(t('common.notDeleted', { name: r.name, error: err.message }), { error: true });
    }
  }

  panel.querySelector('#new-route').addEventListener('click', () => dialog.open(null));

  routeTester(panel.querySelector('#route-test-form'), panel.querySelector('#route-test-result'));
  const silences = silenceList(panel.querySelector('.silences'));

  return {
    show: () => Promise.all([load(), silences.load()]),
    hide() {},
  };
}

function ordinal(n) {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : { 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] ?? 'th';
  return `${n}${suffix}`;
}

// ---- The route dialog ----

/** The create/edit route dialog; it stays open with everything typed until a save succeeds. */
function routeDialog(onSaved) {
  const dialog = document.getElementById('route-dialog');
  const form = dialog.querySelector('form');
  const heading = dialog.querySelector('#route-dialog-title');
  const { name, continue: continues, templateId, position } = form.elements;
  const groups = groupPicker(dialog.querySelector('#route-groups'));
  const contacts = contactPicker(dialog.querySelector('#route-contacts'));
  const matchers = matcherRows(dialog.querySelector('#route-matchers'), dialog.querySelector('#route-add-matcher'), {
    path: 'input.matchers',
    idPrefix: 'route-matcher',
  });
  let editing = null;
  let openings = 0; // a late answer is for the opening still on screen only

  function input() {
    const out = {
      name: name.value.trim(),
      matchers: matchers.values(),
      groupIds: groups.ids(),
      contactIds: contacts.ids(),
      continue: continues.checked,
    };
    if (templateId.value) out.templateId = templateId.value;
    if (position.value.trim()) out.position = Number(position.value);
    return out;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(form, async () => {
      try {
        const saved = editing
          ? (await gql(UPDATE_ROUTE, { id: editing.id, input: input() })).updateRoute
          : (await gql(CREATE_ROUTE, { input: input() })).createRoute;
        dialog.close();
        onSaved(t(editing ? 'routes.updated' : 'routes.created', { name: saved.name, ordinal: ordinal(saved.position), n: saved.position }));
      } catch (err) {
        showErrors(form, err);
      }
    });
  });
  templateId.addEventListener('change', () => {
    templateId.dataset.touched = 'yes';
  });
  clearErrorsAsTyped(form);

  function renderTemplates(list, selected) {
    templateId.replaceChildren(new Option(t('routes.templateNone'), ''), ...list.map((tpl) => new Option(tpl.name, tpl.id)));
    templateId.value = list.some((tpl) => tpl.id === selected) ? selected : '';
  }

  return {
    async open(route) {
      editing = route;
      const opening = ++openings;
      delete templateId.dataset.touched;
      form.reset();
      clearErrors(form);
      heading.textContent = route ? t('routes.editTitle', { name: route.name }) : t('routes.new');
      name.value = route?.name ?? '';
      continues.checked = route?.continue ?? false;
      position.value = '';
      position.placeholder = route ? t('routes.positionUnchanged', { position: route.position }) : t('routes.positionLast');
      matchers.set(route ? route.matchers : [matchers.blank()]);
      renderTemplates(route?.template ? [route.template] : [], route?.template?.id ?? '');
      // The row's recipients until the fresh read comes.
      groups.set(route?.groups ?? []);
      contacts.set(route?.contacts ?? []);
      openDialog(dialog, name);
      try {
        // The route is read afresh: the row may be older than someone else's edit.
        const [templates, fresh] = await Promise.all([
          allNodes(ALL_MESSAGE_TEMPLATES, 'messageTemplates'),
          route && gql(ROUTE, { id: route.id }).then((d) => d.route),
        ]);
        if (opening !== openings || !dialog.open) return;
        if (route && !fresh) {
          dialog.close();
          onSaved(t('routes.deletedMeanwhile', { name: route.name }));
          return;
        }
        if (fresh) {
          editing = fresh;
          matchers.set(fresh.matchers);
          continues.checked = fresh.continue;
          // What the user chose meanwhile wins over what was stored.
          if (!groups.touched) groups.set(fresh.groups);
          if (!contacts.touched) contacts.set(fresh.contacts);
        }
        const touched = templateId.dataset.touched ? templateId.value : fresh?.template?.id ?? '';
        renderTemplates(templates, touched);
      } catch (err) {
        if (opening !== openings) return;
        const error = form.querySelector('.form-error');
        error.textContent = t('routes.rereadFailed', { error: err.message });
        error.hidden = false;
      }
    },
  };
}

// ---- Test labels ----

/** The Test labels panel: what testRoute decides for some labels and a severity. */
function routeTester(form, result) {
  const labels = matcherRows(form.querySelector('#route-test-labels'), form.querySelector('#route-test-add-label'), {
    path: 'labels',
    idPrefix: 'route-test-label',
    withOp: false,
    min: 1,
  });
  labels.set([]);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(form, async () => {
      // Rows left empty are not sent; errors name the index sent, shown at the row it came from.
      const rowsSent = [];
      const sent = [];
      labels.values().forEach((l, i) => {
        if (!l.label && !l.value) return;
        rowsSent.push(i);
        sent.push({ name: l.label, value: l.value });
      });
      try {
        const decision = (await gql(TEST_ROUTE, { labels: sent, severity: form.elements.severity.value })).testRoute;
        clearErrors(form);
        result.replaceChildren(...decisionView(decision));
        result.hidden = false;
        announce(decision.matched ? t('routes.test.matchCount', { count: decision.routes.length }) : t('routes.test.noMatch'));
      } catch (err) {
        const remapped = new ApiError(
          err.errors.map((e) => {
            const field = e.extensions?.field?.replace(/^labels\[(\d+)\]/, (_, k) => `labels[${rowsSent[Number(k)] ?? k}]`);
            return field ? { ...e, extensions: { ...e.extensions, field } } : e;
          }),
        );
        result.hidden = true;
        showErrors(form, remapped, t('routes.test.notTested'));
      }
    });
  });
  clearErrorsAsTyped(form);
}

function decisionView(d) {
  const item = (term, ...details) => [el('dt', {}, term), el('dd', {}, ...details)];
  const parts = [
    el('p', { class: d.matched ? 'decision matched' : 'decision unmatched' },
      d.matched
        ? t('routes.test.matched', { count: d.routes.length })
        : t('routes.test.unmatched')),
  ];
  const list = el('dl', { class: 'decision-list' });
  list.append(...item(t('routes.test.labelsMatched'), el('ul', { class: 'chips labels' }, d.labels.map((l) => el('li', { class: 'label-chip' }, el('span', { class: 'label-name' }, l.name), '=', l.value)))));
  if (d.matched) {
    list.append(
      ...item(
        t('routes.test.routes'),
        el('ol', { class: 'matched-routes', 'aria-label': t('routes.test.matchingRoutes') }, d.routes.map((r) => el('li', {}, el('span', { class: 'route-name' }, r.name), r.continue && el('span', { class: 'tag' }, t('routes.continueTag'))))),
      ),
      ...item(t('common.recipients'), nameChips(t('common.groups'), d.groups, 'group'), nameChips(t('common.contacts'), d.contacts, 'contact')),
    );
  }
  const pending = d.silences.filter((s) => s.state === 'PENDING');
  list.append(
    ...item(
      t('routes.test.silence'),
      d.silencedBy
        ? el('p', { class: 'silenced-by' }, t('routes.test.silencedBy', { comment: d.silencedBy.comment, time: formatTime(d.silencedBy.endsAt) }))
        : el('p', { class: 'muted' }, t('routes.test.noSilence')),
      pending.map((s) => el('p', { class: 'muted' }, t('routes.test.pendingSilence', { comment: s.comment, time: formatTime(s.startsAt) }))),
    ),
  );
  if (d.matched) {
    list.append(
      ...item(
        t('groups.quietHours'),
        d.quiet.length > 0
          ? el(
            'ul',
            { class: 'quiet-holds', 'aria-label': t('routes.test.quietHolds') },
            d.quiet.map((q) => el('li', {}, el('strong', {}, q.group.name), t('routes.test.quiet', { time: formatTime(q.until), policy: POLICY_WORDS[q.policy] ?? q.policy }))),
          )
          : el('p', { class: 'muted' }, t('routes.test.noQuiet')),
      ),
    );
  }
  parts.push(list);
  return parts;
}

// ---- Silences ----

/** The silences, newest first, in the state chosen; More reads the next page. */
function silenceList(section) {
  const rows = section.querySelector('#silences-rows');
  const state = section.querySelector('#silence-state');
  const more = section.querySelector('#silences-more');
  const count = section.querySelector('#silences-count');
  let shown = [];
  let endCursor = null;
  let latest = 0;

  async function load(done, { after = null } = {}) {
    const mine = ++latest;
    try {
      const conn = (await gql(SILENCES, { state: state.value || null, after })).silences;
      if (mine !== latest) return;
      const page = conn.edges.map((e) => e.node);
      shown = after ? [...shown, ...page] : page;
      endCursor = conn.pageInfo.endCursor;
      fillRows(rows, shown.map(row), state.value
        ? { ACTIVE: t('silences.none.active'), PENDING: t('silences.none.pending'), EXPIRED: t('silences.none.expired') }[state.value]
        : t('silences.none'));
      more.hidden = !conn.pageInfo.hasNextPage;
      count.textContent = conn.totalCount > 0 ? t('silences.count', { shown: shown.length, count: conn.totalCount }) : '';
      if (done) announce(done);
    } catch (err) {
      announce(`${done ? `${done} ` : ''}${t('silences.loadFailed', { error: err.message })}`, { error: true });
    }
  }

  function row(s) {
    const live = s.state !== 'EXPIRED';
    return el(
      'tr',
      { 'data-silence': s.id },
      el('th', { scope: 'row', 'data-label': t('common.matchers'), tabindex: '-1' }, matcherChips(s.matchers, t('common.none'))),
      el('td', { 'data-label': t('silences.col.starts') }, el('time', { datetime: s.startsAt }, formatTime(s.startsAt))),
      el('td', { 'data-label': t('silences.col.ends') }, el('time', { datetime: s.endsAt }, formatTime(s.endsAt))),
      el('td', { 'data-label': t('silences.col.comment'), class: 'comment' }, s.comment),
      el('td', { 'data-label': t('silences.col.createdBy') }, s.createdBy || el('span', { class: 'muted' }, '—')),
      el('td', { 'data-label': t('silences.col.state') }, el('span', { class: `status-chip silence-${s.state.toLowerCase()}` }, SILENCE_STATE_WORDS[s.state] ?? s.state)),
      el(
        'td',
        { class: 'actions', 'data-label': t('common.actions'), 'data-requires': 'send' },
        live && el('div', { class: 'row-actions' }, button(t('silences.expire'), 'stop', () => expire(s), { 'aria-label': t('silences.expireLabel', { what: s.matchers.map(matcherText).join(', ') }) })),
      ),
    );
  }

  async function expire(s) {
    const what = s.matchers.map(matcherText).join(', ');
    const ok = await confirmAction({
      title: t('silences.expire.title'),
      message: t(s.state === 'PENDING' ? 'silences.expire.messagePending' : 'silences.expire.message', { what, comment: s.comment }),
      action: t('silences.expire.action'),
    });
    if (!ok) return;
    try {
      await gql(EXPIRE_SILENCE, { id: s.id });
      await load(t('silences.expired', { what }));
      // Its Expire button is gone: keep the reader at its row, or at the filter when it left the list.
      (rows.querySelector(`tr[data-silence="${CSS.escape(s.id)}"] > th`) ?? state).focus();
    } catch (err) {
      announce(t('silences.expireFailed', { error: err.message }), { error: true });
    }
  }

  state.addEventListener('change', () => load());
  more.addEventListener('click', () => load(null, { after: endCursor }));
  section.querySelector('#new-silence').addEventListener('click', () => openSilenceDialog({ onSaved: (done) => load(done) }));

  return { load: () => load() };
}

// ---- The New silence dialog ----

let silenceDialogInstance = null;

/**
 * Opens the New silence dialog with matchers filled in (one empty row when none); onSaved(message)
 * runs once it is stored.
 */
export function openSilenceDialog({ matchers = [], onSaved = announce } = {}) {
  silenceDialogInstance ??= silenceDialog();
  silenceDialogInstance.open(matchers, onSaved);
}

/** A Date as a datetime-local input's value, in the browser's time zone. */
function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function silenceDialog() {
  const dialog = document.getElementById('silence-dialog');
  const form = dialog.querySelector('form');
  const { startsAt, duration, endsAt, comment } = form.elements;
  const customEnd = dialog.querySelector('#silence-custom-end');
  const endsHint = dialog.querySelector('#silence-ends-hint');
  const matchers = matcherRows(dialog.querySelector('#silence-matchers'), dialog.querySelector('#silence-add-matcher'), {
    path: 'input.matchers',
    idPrefix: 'silence-matcher',
    min: 1,
  });
  let onSaved = announce;

  /** The start asked for (null: now) and the end the choices make (null: none chosen yet). */
  function times() {
    const start = startsAt.value ? new Date(startsAt.value) : null;
    if (duration.value === 'custom') return { start, end: endsAt.value ? new Date(endsAt.value) : null };
    return { start, end: new Date((start ?? new Date()).getTime() + DURATIONS[duration.value]) };
  }

  function showEnd() {
    customEnd.hidden = duration.value !== 'custom';
    const { end } = times();
    endsHint.textContent = end && !Number.isNaN(end.getTime()) ? t('silences.endsHint', { time: end.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }) }) : t('silences.chooseEnd');
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const { start, end } = times();
    if (!end || Number.isNaN(end.getTime())) {
      showErrors(form, new ApiError([{ message: t('silences.chooseEndError'), extensions: { code: 'BAD_USER_INPUT', field: 'input.endsAt' } }]));
      return;
    }
    const input = { matchers: matchers.values(), endsAt: end.toISOString(), comment: comment.value.trim() };
    if (start && !Number.isNaN(start.getTime())) input.startsAt = start.toISOString();
    busy(form, async () => {
      try {
        const saved = (await gql(CREATE_SILENCE, { input })).createSilence;
        dialog.close();
        const what = input.matchers.map(matcherText).join(', ');
        onSaved(saved.state === 'PENDING'
          ? t('silences.createdPending', { what, start: formatTime(saved.startsAt), end: formatTime(saved.endsAt) })
          : t('silences.created', { what, end: formatTime(saved.endsAt) }));
      } catch (err) {
        showErrors(form, err);
      }
    });
  });
  for (const control of [startsAt, duration, endsAt]) control.addEventListener('input', showEnd);
  duration.addEventListener('change', () => {
    if (duration.value === 'custom' && !endsAt.value) {
      endsAt.value = localInputValue(new Date((times().start ?? new Date()).getTime() + DURATIONS['1h']));
    }
    showEnd();
    if (duration.value === 'custom') endsAt.focus();
  });
  clearErrorsAsTyped(form);

  return {
    open(list, saved) {
      onSaved = saved;
      form.reset();
      clearErrors(form);
      matchers.set(list);
      duration.value = '1h';
      showEnd();
      // Prefilled matchers are there to check and prune; the comment is what is left to write.
      openDialog(dialog, list.length > 0 ? comment : dialog.querySelector('#silence-matchers input'));
    },
  };
}
