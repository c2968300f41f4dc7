// The Contact group tab: the paged list, the create/edit dialog (with members and quiet hours) and
// delete.

import { ApiError, gql } from './api.js';
import { t } from './i18n.js';
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
const DAYS = [t('day.mon'), t('day.tue'), t('day.wed'), t('day.thu'), t('day.fri'), t('day.sat'), t('day.sun')];
const SHORT_DAYS = [t('day.short.mon'), t('day.short.tue'), t('day.short.wed'), t('day.short.thu'), t('day.short.fri'), t('day.short.sat'), t('day.short.sun')];

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
      fillRows(rows, groups.map(row), search.value ? t('picker.noGroupMatches') : t('groups.none'));
      pager.update(conn);
      if (done) announce(done);
    } catch (err) {
      announce(`${done ? `${done} ` : ''}${t('picker.groupsFailed', { error: err.message })}`, { error: true });
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
        { scope: 'row', 'data-label': t('common.name') },
        el('span', { class: 'name' }, g.name),
        g.quietUntil && el('span', { class: 'quiet-badge', title: t('groups.quietUntilTitle', { time: formatTime(g.quietUntil) }) }, t('groups.quietUntil', { time: clock(g.quietUntil) })),
        g.quietHours.length > 0 && el('span', { class: 'muted meta quiet-hours' }, t('groups.quietSummary', { windows: g.quietHours.map(windowText).join('; '), policy: g.quietPolicy === 'DROP' ? t('groups.thenDropped') : t('groups.thenDigest') })),
      ),
      el('td', { 'data-label': t('common.description') }, g.description || el('span', { class: 'muted' }, t('groups.noDescription'))),
      el(
        'td',
        { 'data-label': t('common.contacts') },
        el('span', { class: 'count' }, t('groups.contactCount', { count: g.contactCount })),
        names.length > 0 && el('span', { class: 'muted members' }, names.join(', ') + (more > 0 ? t('groups.andMore', { count: more }) : '')),
      ),
      el(
        'td',
        { class: 'actions', 'data-label': t('common.actions'), 'data-requires': 'manage' },
        el(
          'div',
          { class: 'row-actions' },
          button(t('common.edit'), 'edit', () => dialog.open(g), { 'aria-label': t('common.editLabel', { name: g.name }) }),
          button(t('common.delete'), 'trash', () => remove(g), { class: 'danger-text', 'aria-label': t('common.deleteLabel', { name: g.name }) }),
        ),
      ),
    );
  }

  async function remove(g) {
    const ok = await confirmAction({
      title: t('groups.delete.title'),
      message: t('groups.delete.message', { name: g.name, count: g.contactCount }),
      action: t('groups.delete.action'),
    });
    if (!ok) return;
    try {
      await gql(DELETE_GROUP, { id: g.id });
      await load(t('groups.deleted', { name: g.name }));
    } catch (err) {
      announce(t('common.notDeleted', { name: g.name, error: err.message }), { error: true });
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
  if (weekdays.length === 0) return t('groups.everyDay');
  const days = [...weekdays].sort((a, b) => a - b);
  const short = (d) => SHORT_DAYS[d - 1];
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
        el('legend', {}, t('groups.window.legend', { n: i + 1 })),
        el('button', { type: 'button', class: 'icon-only remove-row', 'data-remove': true, 'aria-label': t('groups.window.remove', { n: i + 1 }) }, icon('close')),
        el(
          'fieldset',
          { class: 'field weekdays', 'data-field': `${at}.weekdays` },
          el('legend', {}, `${t('groups.window.days')} `, el('span', { class: 'optional' }, t('groups.window.daysOptional'))),
          el(
            'div',
            { class: 'day-checks' },
            DAYS.map((day, k) =>
              el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'weekday', value: k + 1, checked: w.weekdays.includes(k + 1), 'aria-label': day }), SHORT_DAYS[k]),
            ),
          ),
          el('p', { class: 'field-error', hidden: true }),
        ),
        el(
          'div',
          { class: 'window-times' },
          field(`${at}.start`, id('start'), t('groups.window.start'), time('start', w.start)),
          field(`${at}.end`, id('end'), t('groups.window.end'), time('end', w.end)),
          field(
            `${at}.timeZone`,
            id('timeZone'),
            t('integrations.timeZone'),
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
      if (!fresh) throw new ApiError([{ message: t('groups.gone', { name: group.name }) }]);
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
        button(t('common.remove'), 'close', () => removeMember(c), { class: 'danger-text', 'aria-label': t('picker.removeLabel', { name: c.name }) }),
      ),
    empty: () => (memberSearch.value.trim() ? t('groups.noMemberMatches') : t('groups.noMembers')),
    count: dialog.querySelector('#group-member-count'),
    onError: failed(t('groups.membersFailed')),
  });

  // The contacts chosen to add, kept while the search changes; those already in are marked.
  const found = contactPicker(dialog.querySelector('#group-add-picker'), {
    label: t('groups.findToAdd'),
    placeholder: t('groups.findToAdd'),
    chosenLabel: t('groups.toAdd'),
    search: async (text) => matches((await gql(PICK_GROUP_CANDIDATES, { search: text || null })).contacts),
    option: (c) => [c.name, source.has(c) && el('span', { class: 'muted' }, t('groups.isMember'))],
    // The members listed above have Remove buttons of their own.
    removeLabel: (c) => t('groups.doNotAdd', { name: c.name }),
    onChange: showPicked,
  });

  function showPicked() {
    const count = found.ids().length;
    addButton.disabled = count === 0;
    addButton.textContent = count === 0 ? t('groups.addSelected') : t('groups.addSelectedCount', { count });
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
      const names = contacts.length === 1 ? t('groups.oneName', { name: contacts[0].name }) : t('groups.contactCount', { count: contacts.length });
      membersChanged(source.saved ? t('groups.membersAdded', { names, group: editing.name }) : t('groups.membersChosen', { names }));
    } catch (err) {
      showPicked();
      failed(t('groups.notAdded'))(err);
    }
  });

  async function removeMember(c) {
    // Focus stays at the same place in the list: the member now there, else the search box.
    const at = [...members.list.children].findIndex((li) => li.contains(document.activeElement));
    try {
      await source.remove(c);
      changed ||= source.saved;
      announce(source.saved ? t('groups.memberRemoved', { name: c.name, group: editing.name }) : t('groups.memberUnchosen', { name: c.name }));
      found.refresh();
      await members.reload();
      const next = members.list.children[Math.min(at, members.list.children.length - 1)];
      (next?.querySelector('button') ?? memberSearch).focus();
    } catch (err) {
      failed(t('groups.notRemoved'))(err);
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
        onSaved(t(editing ? 'groups.updated' : 'groups.created', { name: saved.name }));
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
      title.textContent = group ? t('groups.editTitle', { name: group.name }) : t('groups.new');
      membersHint.textContent = group
        ? t('groups.membersHint.saved')
        : t('groups.membersHint.new');
      name.value = group?.name ?? '';
      description.value = group?.description ?? '';
      windows.set(group?.quietHours ?? []);
      quietPolicy.value = group?.quietPolicy ?? 'DIGEST';
      members.wait(group ? t('groups.loadingMembers') : '');
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
        announce(t('groups.rereadFailed', { error: err.message }), { error: true });
      }
    },
  };
}
