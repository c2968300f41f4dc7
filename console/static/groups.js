// The Contact group tab: the paged list, the create/edit dialog (with members and quiet hours) and
// delete.

import { allNodes, gql } from './api.js';
import { ALL_CONTACTS, CREATE_GROUP, DELETE_GROUP, GROUP, GROUPS, UPDATE_GROUP } from './documents.js';
import {
  Pager, RowList, announce, busy, button, checkedIds, clearErrors, clearErrorsAsTyped, confirmAction, debounce, el, fillRows,
  formatTime, icon, openDialog, renderChoices, showErrors,
} from './ui.js';

const PAGE_SIZE = 20;

// ISO weekdays: DAYS[0] is 1, Monday.
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

// Member names shown in the table before "and N more".
const NAMES_SHOWN = 5;

export function groupsTab(panel) {
  const rows = panel.querySelector('#groups-rows');
  const search = panel.querySelector('#group-search');
  const pager = new Pager(panel.querySelector('.pager'), PAGE_SIZE, load);
  const dialog = groupDialog(load);

  // done, when given, is announced once the list shows the change it reports.
  async function load(done) {
    try {
      const conn = (await gql(GROUPS, { search: search.value.trim() || null, ...pager.args })).groups;
      if (pager.recover(conn)) return load(done); // the groups of this page were deleted
      const groups = conn.edges.map((e) => e.node);
      fillRows(rows, groups.map(row), search.value ? 'No group matches this search.' : 'No contact groups yet.');
      pager.update(conn);
      if (done) announce(done);
    } catch (err) {
      announce(`${done ? `${done} ` : ''}Groups could not be loaded: ${err.message}`, { error: true });
    }
  }

  function row(g) {
    const names = g.contacts.slice(0, NAMES_SHOWN).map((c) => c.name);
    const more = g.contactCount - names.length;
    return el(
      'tr',
      {},
      el(
        'th',
        { scope: 'row', 'data-label': 'Name' },
        el('span', { class: 'name' }, g.name),
        g.quietUntil && el('span', { class: 'quiet-badge', title: `In its quiet hours until ${formatTime(g.quietUntil)}` }, `quiet until ${clock(g.quietUntil)}`),
        g.quietHours.length > 0 && el('span', { class: 'muted meta quiet-hours' }, `Quiet ${g.quietHours.map(windowText).join('; ')} · ${g.quietPolicy === 'DROP' ? 'then dropped' : 'then a digest'}`),
      ),
      el('td', { 'data-label': 'Description' }, g.description || el('span', { class: 'muted' }, 'No description')),
      el(
        'td',
        { 'data-label': 'Contacts' },
        el('span', { class: 'count' }, `${g.contactCount} contact${g.contactCount === 1 ? '' : 's'}`),
        names.length > 0 && el('span', { class: 'muted members' }, names.join(', ') + (more > 0 ? ` and ${more} more` : '')),
      ),
      el(
        'td',
        { class: 'actions', 'data-label': 'Actions', 'data-requires': 'manage' },
        el(
          'div',
          { class: 'row-actions' },
          button('Edit', 'edit', () => dialog.open(g), { 'aria-label': `Edit ${g.name}` }),
          button('Delete', 'trash', () => remove(g), { class: 'danger-text', 'aria-label': `Delete ${g.name}` }),
        ),
      ),
    );
  }

  async function remove(g) {
    const ok = await confirmAction({
      title: 'Delete contact group?',
      message: `The group “${g.name}” will be deleted. Its ${g.contactCount} contact${g.contactCount === 1 ? ' is' : 's are'} kept; they only stop being members of it.`,
      action: 'Delete group',
    });
    if (!ok) return;
    try {
      await gql(DELETE_GROUP, { id: g.id });
      await load(`Group “${g.name}” deleted; its contacts are kept.`);
    } catch (err) {
      announce(`“${g.name}” was not deleted: ${err.message}`, { error: true });
    }
  }

  search.addEventListener(
    'input',
    debounce(() => {
      pager.reset();
      load();
    }, 250),
  );
  panel.querySelector('#new-group').addEventListener('click', () => dialog.open(null));

  return { show: load, hide() {} };
}

/** A time as HH:MM on the user's clock, with the day when it is not today. */
function clock(iso) {
  const at = new Date(iso);
  const time = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return at.toDateString() === new Date().toDateString() ? time : `${at.toLocaleDateString([], { weekday: 'short' })} ${time}`;
}

/** Weekdays as short names, runs of three or more as a range: Mon–Fri, Sun. */
function daysText(weekdays) {
  if (weekdays.length === 0) return 'every day';
  const days = [...weekdays].sort((a, b) => a - b);
  const short = (d) => DAYS[d - 1].slice(0, 3);
  const parts = [];
  for (let i = 0; i < days.length; ) {
    let j = i;
    while (j + 1 < days.length && days[j + 1] === days[j] + 1) j++;
    parts.push(j - i >= 2 ? `${short(days[i])}–${short(days[j])}` : days.slice(i, j + 1).map(short).join(', '));
    i = j + 1;
  }
  return parts.join(', ');
}

function windowText(w) {
  return `${daysText(w.weekdays)} ${w.start}–${w.end} ${w.timeZone}`;
}

function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The quiet-hours windows of the group dialog, each field's errors at input.quietHours[i].… */
function windowRows(container, addButton) {
  const field = (at, id, label, control) =>
    el('div', { class: 'field', 'data-field': at }, el('label', { for: id }, label), control, el('p', { class: 'field-error', hidden: true }));
  return new RowList(container, {
    addButton,
    blank: () => ({ weekdays: [], start: '22:00', end: '07:00', timeZone: browserZone() }),
    read: (row) => ({
      weekdays: [...row.querySelectorAll('[name="weekday"]:checked')].map((c) => Number(c.value)),
      start: row.querySelector('[name="start"]').value.trim(),
      end: row.querySelector('[name="end"]').value.trim(),
      timeZone: row.querySelector('[name="timeZone"]').value.trim(),
    }),
    render: (w, i) => {
      const at = `input.quietHours[${i}]`;
      const id = (n) => `group-window-${i}-${n}`;
      const time = (n, value) =>
        el('input', {
          id: id(n), name: n, value, class: 'code', inputmode: 'numeric', maxlength: '5', placeholder: 'HH:MM', autocomplete: 'off',
          spellcheck: 'false', 'aria-describedby': 'group-quiet-hint',
        });
      return el(
        'fieldset',
        { class: 'window-row', 'data-field': at },
        el('legend', {}, `Window ${i + 1}`),
        el('button', { type: 'button', class: 'icon-only remove-row', 'data-remove': true, 'aria-label': `Remove window ${i + 1}` }, icon('close')),
        el(
          'fieldset',
          { class: 'field weekdays', 'data-field': `${at}.weekdays` },
          el('legend', {}, 'Days ', el('span', { class: 'optional' }, '(none: every day)')),
          el(
            'div',
            { class: 'day-checks' },
            DAYS.map((day, k) =>
              el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'weekday', value: k + 1, checked: w.weekdays.includes(k + 1), 'aria-label': day }), day.slice(0, 3)),
            ),
          ),
          el('p', { class: 'field-error', hidden: true }),
        ),
        el(
          'div',
          { class: 'window-times' },
          field(`${at}.start`, id('start'), 'Start', time('start', w.start)),
          field(`${at}.end`, id('end'), 'End', time('end', w.end)),
          field(
            `${at}.timeZone`,
            id('timeZone'),
            'Time zone',
            el('input', { id: id('timeZone'), name: 'timeZone', value: w.timeZone, list: 'time-zones', autocomplete: 'off', spellcheck: 'false' }),
          ),
        ),
        el('p', { class: 'field-error', hidden: true }),
      );
    },
  });
}

/** The create/edit group dialog; it stays open with everything typed until a save succeeds. */
function groupDialog(onSaved) {
  const dialog = document.getElementById('group-dialog');
  const form = dialog.querySelector('form');
  const title = dialog.querySelector('#group-dialog-title');
  const { name, description, quietPolicy } = form.elements;
  const members = dialog.querySelector('#group-members');
  const windowsBox = dialog.querySelector('#group-quiet-windows');
  const windows = windowRows(windowsBox, dialog.querySelector('#group-add-window'));
  let editing = null;
  let openings = 0; // a late answer is for the opening still on screen only
  let quietTouched = false; // the user changed the quiet hours before the fresh read came

  const touchQuiet = () => {
    quietTouched = true;
  };
  for (const type of ['input', 'click']) windowsBox.addEventListener(type, touchQuiet);
  dialog.querySelector('#group-add-window').addEventListener('click', touchQuiet);
  quietPolicy.addEventListener('change', touchQuiet);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(form, async () => {
      const input = {
        name: name.value.trim(),
        description: description.value.trim(),
        contactIds: checkedIds(members),
        // Every window, so that an emptied list removes them.
        quietHours: windows.values().map(({ timeZone, ...w }) => (timeZone ? { ...w, timeZone } : w)),
        quietPolicy: quietPolicy.value,
      };
      try {
        const saved = editing
          ? (await gql(UPDATE_GROUP, { id: editing.id, input })).updateContactGroup
          : (await gql(CREATE_GROUP, { input })).createContactGroup;
        dialog.close();
        onSaved(`Group “${saved.name}” ${editing ? 'updated' : 'created'}.`);
      } catch (err) {
        showErrors(form, err);
      }
    });
  });
  clearErrorsAsTyped(form);

  return {
    async open(group) {
      editing = group;
      const opening = ++openings;
      quietTouched = false;
      form.reset();
      clearErrors(form);
      title.textContent = group ? `Edit contact group “${group.name}”` : 'Create contact group';
      name.value = group?.name ?? '';
      description.value = group?.description ?? '';
      windows.set(group?.quietHours ?? []);
      quietPolicy.value = group?.quietPolicy ?? 'DIGEST';
      members.replaceChildren(el('p', { class: 'muted' }, 'Loading contacts…'));
      openDialog(dialog, name);
      try {
        // Members and quiet hours are read afresh: the row may be older than someone else's edit.
        const [contacts, fresh] = await Promise.all([allNodes(ALL_CONTACTS, 'contacts'), group && gql(GROUP, { id: group.id })]);
        if (opening !== openings || !dialog.open) return;
        if (fresh?.group && !quietTouched) {
          windows.set(fresh.group.quietHours);
          quietPolicy.value = fresh.group.quietPolicy;
        }
        renderChoices(members, contacts, {
          name: 'members',
          selected: new Set(fresh?.group?.contacts.map((c) => c.id)),
          label: (c) => c.name,
          empty: 'No contacts yet.',
        });
      } catch (err) {
        members.replaceChildren(el('p', { class: 'field-error' }, `Contacts could not be loaded: ${err.message}`));
      }
    },
  };
}
