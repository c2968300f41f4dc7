// The Contact group tab: the paged list, the create/edit dialog (with members and quiet hours) and
// delete.

import { ApiError, gql } from './api.js';
import {
  ADD_GROUP_MEMBERS, CREATE_GROUP, DELETE_GROUP, GROUP, GROUPS, GROUP_MEMBERS, PICK_GROUP_CANDIDATES, REMOVE_GROUP_MEMBERS,
  UPDATE_GROUP,
} from './documents.js';
import {
  MoreList, Pager, RowList, announce, busy, button, clearErrors, clearErrorsAsTyped, confirmAction, debounce, el, fillRows,
  formatTime, icon, openDialog, showErrors,
} from './ui.js';
import { contactPicker, matches } from './picker.js';

const PAGE_SIZE = 20;
// The group dialog's members a page at a time: a group may have a hundred thousand.
const MEMBERS_PAGE = 50;

// ISO weekdays: DAYS[0] is 1, Monday.
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

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
    // The first few members (GROUPS reads five), then "and N more".
    const names = g.members.edges.map((e) => e.node.name);
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

/** Contacts in name order ignoring case, as group.members has them. */
const byName = (a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase());

/**
 * Where the dialog's members are: an existing group's, each addition and removal saved at once, or
 * those chosen for a new group, which createContactGroup sends as contactIds. Both page as
 * group.members does.
 */
function groupMembers(group) {
  return {
    page: async (after, search) => {
      const fresh = (await gql(GROUP_MEMBERS, { id: group.id, first: MEMBERS_PAGE, after, search })).group;
      if (!fresh) throw new ApiError([{ message: `The group “${group.name}” no longer exists.` }]);
      const { members } = fresh;
      return { items: members.edges.map((e) => e.node), after: members.pageInfo.hasNextPage ? members.pageInfo.endCursor : null, total: members.totalCount };
    },
    add: (contacts) => gql(ADD_GROUP_MEMBERS, { groupId: group.id, contactIds: contacts.map((c) => c.id) }),
    remove: (contact) => gql(REMOVE_GROUP_MEMBERS, { groupId: group.id, contactIds: [contact.id] }),
    has: (contact) => contact.groups.some((g) => g.id === group.id),
    saved: true,
  };
}

/** The members chosen for a new group, paged and searched here as Herald pages them. */
function chosenMembers() {
  const chosen = new Map();
  return {
    page: async (after, search) => {
      const q = (search ?? '').toLowerCase();
      const list = [...chosen.values()].filter((c) => c.name.toLowerCase().includes(q)).sort(byName);
      const start = Number(after ?? 0);
      const end = start + MEMBERS_PAGE;
      return { items: list.slice(start, end), after: end < list.length ? String(end) : null, total: list.length };
    },
    add: async (contacts) => contacts.forEach((c) => chosen.set(c.id, c)),
    remove: async (contact) => chosen.delete(contact.id),
    has: (contact) => chosen.has(contact.id),
    ids: () => [...chosen.keys()],
    saved: false,
  };
}

/** The create/edit group dialog; it stays open with everything typed until a save succeeds. */
function groupDialog(onSaved) {
  const dialog = document.getElementById('group-dialog');
  const form = dialog.querySelector('form');
  const title = dialog.querySelector('#group-dialog-title');
  const { name, description, quietPolicy } = form.elements;
  const membersHint = dialog.querySelector('#group-members-hint');
  const memberSearch = dialog.querySelector('#group-member-search');
  const addButton = dialog.querySelector('#group-add');
  const membersError = dialog.querySelector('[data-field="input.contactIds"] > .field-error');
  const windowsBox = dialog.querySelector('#group-quiet-windows');
  const windows = windowRows(windowsBox, dialog.querySelector('#group-add-window'));
  let editing = null;
  let source = chosenMembers();
  let changed = false; // members were added or removed: the list behind shows other counts
  let openings = 0; // a late answer is for the opening still on screen only
  let quietTouched = false; // the user changed the quiet hours before the fresh read came

  const failed = (what) => (err) => showErrors(form, err, what, { fallback: membersError });

  const members = new MoreList(dialog.querySelector('#group-members'), dialog.querySelector('#group-members-more'), {
    page: (after) => source.page(after, memberSearch.value.trim() || null),
    render: (c) =>
      el(
        'li',
        { class: 'member' },
        el('span', { class: 'name' }, c.name),
        button('Remove', 'close', () => removeMember(c), { class: 'danger-text', 'aria-label': `Remove ${c.name}` }),
      ),
    empty: () => (memberSearch.value.trim() ? 'No member matches this search.' : 'No members yet.'),
    count: dialog.querySelector('#group-member-count'),
    onError: failed('Members could not be loaded'),
  });

  // The contacts chosen to add, kept while the search changes; those already in are marked.
  const found = contactPicker(dialog.querySelector('#group-add-picker'), {
    label: 'Find contacts to add',
    placeholder: 'Find contacts to add',
    chosenLabel: 'Contacts to add',
    search: async (text) => matches((await gql(PICK_GROUP_CANDIDATES, { search: text || null })).contacts),
    option: (c) => [c.name, source.has(c) && el('span', { class: 'muted' }, ' (member)')],
    // The members listed above have Remove buttons of their own.
    removeLabel: (c) => `Do not add ${c.name}`,
    onChange: showPicked,
  });

  function showPicked() {
    const count = found.ids().length;
    addButton.disabled = count === 0;
    addButton.textContent = count === 0 ? 'Add selected' : `Add selected (${count})`;
  }

  function membersChanged(message) {
    changed ||= source.saved;
    announce(message);
    members.reload();
    found.refresh();
  }

  addButton.addEventListener('click', async () => {
    const contacts = found.items();
    addButton.disabled = true;
    try {
      await source.add(contacts);
      found.set([]);
      showPicked();
      const names = contacts.length === 1 ? `“${contacts[0].name}”` : `${contacts.length} contacts`;
      membersChanged(source.saved ? `${names} added to “${editing.name}”.` : `${names} chosen; they join when the group is created.`);
    } catch (err) {
      showPicked();
      failed('Not added')(err);
    }
  });

  async function removeMember(c) {
    // Focus stays at the same place in the list: the member now there, else the search box.
    const at = [...members.list.children].findIndex((li) => li.contains(document.activeElement));
    try {
      await source.remove(c);
      changed ||= source.saved;
      announce(source.saved ? `“${c.name}” removed from “${editing.name}”.` : `“${c.name}” is no longer chosen.`);
      found.refresh();
      await members.reload();
      const next = members.list.children[Math.min(at, members.list.children.length - 1)];
      (next?.querySelector('button') ?? memberSearch).focus();
    } catch (err) {
      failed('Not removed')(err);
    }
  }

  memberSearch.addEventListener('input', debounce(() => members.reload(0), 250));
  // Searching is not editing: Enter in the search box must not save the group.
  memberSearch.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') event.preventDefault();
  });

  const touchQuiet = () => {
    quietTouched = true;
  };
  for (const type of ['input', 'click']) windowsBox.addEventListener(type, touchQuiet);
  dialog.querySelector('#group-add-window').addEventListener('click', touchQuiet);
  quietPolicy.addEventListener('change', touchQuiet);

  // Closed without saving after members changed: the list behind still shows the old ones.
  dialog.addEventListener('close', () => {
    if (changed) onSaved();
    changed = false;
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(form, async () => {
      const input = {
        name: name.value.trim(),
        description: description.value.trim(),
        // Every window, so that an emptied list removes them.
        quietHours: windows.values().map(({ timeZone, ...w }) => (timeZone ? { ...w, timeZone } : w)),
        quietPolicy: quietPolicy.value,
      };
      try {
        // An existing group's members were saved as they were added and removed: without
        // contactIds, updateContactGroup leaves them alone.
        const saved = editing
          ? (await gql(UPDATE_GROUP, { id: editing.id, input })).updateContactGroup
          : (await gql(CREATE_GROUP, { input: { ...input, contactIds: source.ids() } })).createContactGroup;
        changed = false;
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
      source = group ? groupMembers(group) : chosenMembers();
      changed = false;
      const opening = ++openings;
      quietTouched = false;
      form.reset();
      clearErrors(form);
      showPicked();
      title.textContent = group ? `Edit contact group “${group.name}”` : 'Create contact group';
      membersHint.textContent = group
        ? 'Adding and removing members takes effect at once; Save keeps the other fields.'
        : 'The members chosen join when the group is created.';
      name.value = group?.name ?? '';
      description.value = group?.description ?? '';
      windows.set(group?.quietHours ?? []);
      quietPolicy.value = group?.quietPolicy ?? 'DIGEST';
      members.wait(group ? 'Loading members…' : '');
      openDialog(dialog, name);
      members.reload(0);
      if (!group) return;
      try {
        // Quiet hours are read afresh: the row may be older than someone else's edit.
        const fresh = (await gql(GROUP, { id: group.id })).group;
        if (opening !== openings || !dialog.open || !fresh || quietTouched) return;
        windows.set(fresh.quietHours);
        quietPolicy.value = fresh.quietPolicy;
      } catch (err) {
        announce(`The group could not be read again: ${err.message}`, { error: true });
      }
    },
  };
}
