// The Contact group tab: the paged list, the create/edit dialog (with members) and delete.

import { allNodes, gql } from './api.js';
import { ALL_CONTACTS, CREATE_GROUP, DELETE_GROUP, GROUPS, GROUP_MEMBERS, UPDATE_GROUP } from './documents.js';
import {
  Pager, announce, busy, button, checkedIds, clearErrors, clearErrorsAsTyped, confirmAction, debounce, el, fillRows,
  openDialog, renderChoices, showErrors,
} from './ui.js';

const PAGE_SIZE = 20;


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
      el('th', { scope: 'row', 'data-label': 'Name' }, el('span', { class: 'name' }, g.name)),
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

/** The create/edit group dialog; it stays open with everything typed until a save succeeds. */
function groupDialog(onSaved) {
  const dialog = document.getElementById('group-dialog');
  const form = dialog.querySelector('form');
  const title = dialog.querySelector('#group-dialog-title');
  const { name, description } = form.elements;
  const members = dialog.querySelector('#group-members');
  let editing = null;

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(form, async () => {
      const input = { name: name.value.trim(), description: description.value.trim(), contactIds: checkedIds(members) };
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
      form.reset();
      clearErrors(form);
      title.textContent = group ? `Edit contact group “${group.name}”` : 'Create contact group';
      name.value = group?.name ?? '';
      description.value = group?.description ?? '';
      members.replaceChildren(el('p', { class: 'muted' }, 'Loading contacts…'));
      openDialog(dialog, name);
      try {
        // Members are read afresh: the row may be older than someone else's edit.
        const [contacts, fresh] = await Promise.all([allNodes(ALL_CONTACTS, 'contacts'), group && gql(GROUP_MEMBERS, { id: group.id })]);
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
