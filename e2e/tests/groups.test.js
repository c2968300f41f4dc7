// Contact groups: members added and removed in the dialog a page at a time, and deleting a group
// keeps its contacts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createContact, pick, pickerMatches, rowNamed, run, screenshot, useBrowser, withConsole } from '../harness.js';
import { CREATE_GROUP } from '../documents.js';
// The console's own operations, which Herald always trusts, to check what the dialog did.
import { GROUP_MEMBERS } from '../../console/static/documents.js';

useBrowser();

const group = `Night shift ${run}`;
const members = [`Frank ${run}`, `Grace ${run}`];

/** The group's member count and the names of its members matching search (at most 100). */
async function membersOf(id, search = null) {
  const { group: g } = await api(GROUP_MEMBERS, { id, first: 100, after: null, search });
  return { count: g.contactCount, names: g.members.edges.map((e) => e.node.name) };
}

/** Chooses each contact in the dialog's Add picker, found by its name, then adds them. */
async function addMembers(dialog, names) {
  for (const name of names) await pick(dialog, 'Find contacts to add', name);
  await dialog.getByRole('button', { name: `Add selected (${names.length})` }).click();
}

let groupId;

test('members found by name are added to a group at once, and the list shows them', () =>
  withConsole(
    'group-members',
    async (page) => {
      await page.getByRole('button', { name: `Edit ${group}` }).click();
      const dialog = page.getByRole('dialog', { name: `Edit contact group “${group}”` });
      await dialog.locator('#group-members').getByText('No members yet.').waitFor();
      await addMembers(dialog, members);
      for (const name of members) await dialog.getByRole('button', { name: `Remove ${name}`, exact: true }).waitFor();
      assert.deepEqual(await membersOf(groupId), { count: 2, names: members }, 'Add selected did not add them');
      // Found again, they say they are members.
      const find = dialog.getByRole('combobox', { name: 'Find contacts to add' });
      await find.fill(members[0]);
      await (await pickerMatches(dialog, find)).getByRole('option', { name: `${members[0]} (member)`, exact: true }).waitFor();
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await rowNamed(page, group).getByText('2 contacts').waitFor();
      await rowNamed(page, group).getByText(members.join(', ')).waitFor();
      assert.equal((await membersOf(groupId)).count, 2, 'saving the group changed its members');
    },
    {
      hash: '#groups',
      setup: async () => {
        groupId = (await api(CREATE_GROUP, { name: group })).createContactGroup.id;
        for (const name of members) await createContact(name);
      },
    },
  ));

test('a new group is created with the members chosen in its dialog', () =>
  withConsole(
    'group-created-with-members',
    async (page) => {
      const name = `Day shift ${run}`;
      await page.getByRole('button', { name: 'Create contact group' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create contact group' });
      await dialog.getByLabel('Name').fill(name);
      await addMembers(dialog, [members[1]]);
      // Chosen, not yet saved: Remove takes it back.
      await dialog.getByRole('button', { name: `Remove ${members[1]}`, exact: true }).waitFor();
      await addMembers(dialog, [members[0]]);
      await dialog.getByRole('button', { name: `Remove ${members[1]}`, exact: true }).click();
      await dialog.getByRole('button', { name: `Remove ${members[1]}`, exact: true }).waitFor({ state: 'detached' });
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await rowNamed(page, name).getByText('1 contact', { exact: true }).waitFor();
      await rowNamed(page, name).getByText(members[0], { exact: true }).waitFor();
    },
    { hash: '#groups' },
  ));

// More members than one page of the dialog (50), and one contact outside it.
const big = `Large team ${run}`;
const bigMembers = Array.from({ length: 55 }, (_, i) => `Member ${run} ${String(i + 1).padStart(2, '0')}`);
const outsider = `Outsider ${run}`;
let bigId;

test('a large group shows a page of members; More, search, Remove and Add work on the whole group', () =>
  withConsole(
    'group-members-paged',
    async (page) => {
      const row = rowNamed(page, big);
      await row.getByText('55 contacts').waitFor();
      // The list shows the first five and counts the rest.
      await row.getByText(`${bigMembers.slice(0, 5).join(', ')} and 50 more`).waitFor();

      await page.getByRole('button', { name: `Edit ${big}` }).click();
      const dialog = page.getByRole('dialog', { name: `Edit contact group “${big}”` });
      const list = dialog.locator('#group-members .member');
      const count = dialog.locator('#group-member-count');
      await count.getByText('50 of 55').waitFor();
      assert.equal(await list.count(), 50);
      assert.equal(await list.last().locator('.name').textContent(), bigMembers[49]);
      await dialog.getByRole('button', { name: 'More members' }).click();
      await count.getByText('55 of 55').waitFor();
      assert.deepEqual(await list.locator('.name').allTextContents(), bigMembers);
      assert.equal(await dialog.getByRole('button', { name: 'More members' }).isVisible(), false, 'More is offered past the end');

      // Search narrows the whole group, not the page shown: 40–49.
      await dialog.getByLabel('Search members').fill(`${run} 4`);
      await count.getByText('10 of 10').waitFor();
      assert.deepEqual(await list.locator('.name').allTextContents(), bigMembers.slice(39, 49));
      await screenshot(page, 'group-members-search');

      const gone = bigMembers[41];
      await dialog.getByRole('button', { name: `Remove ${gone}`, exact: true }).click();
      await count.getByText('9 of 9').waitFor();
      assert.equal(await dialog.getByRole('button', { name: `Remove ${gone}`, exact: true }).count(), 0);
      let now = await membersOf(bigId);
      assert.equal(now.count, 54, 'Remove did not remove the member');
      assert.ok(!now.names.includes(gone), `${gone} is still a member`);
      assert.ok(now.names.includes(bigMembers[40]), 'Remove removed another member');
      // Focus goes to the member that took the removed one's place.
      await page.waitForFunction((label) => document.activeElement?.getAttribute('aria-label') === label, `Remove ${bigMembers[42]}`);

      await addMembers(dialog, [outsider]);
      await page.getByRole('status').getByText(`“${outsider}” added to “${big}”.`).waitFor();
      now = await membersOf(bigId, outsider);
      assert.deepEqual(now, { count: 55, names: [outsider] }, 'Add did not add the contact');

      // Saving the other fields leaves the members as they are.
      await dialog.getByLabel('Description').fill('all the rest');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await row.getByText('all the rest').waitFor();
      await row.getByText('55 contacts').waitFor();
      assert.equal((await membersOf(bigId)).count, 55, 'updateContactGroup changed the members');
    },
    {
      hash: '#groups',
      setup: async () => {
        bigId = (await api(CREATE_GROUP, { name: big })).createContactGroup.id;
        for (let i = 0; i < bigMembers.length; i += 11) {
          await Promise.all(bigMembers.slice(i, i + 11).map((name) => createContact(name, [bigId])));
        }
        await createContact(outsider);
      },
    },
  ));

test('members removed in a dialog closed without saving are gone from the list too', () =>
  withConsole(
    'group-members-cancel',
    async (page) => {
      await page.getByRole('button', { name: `Edit ${group}` }).click();
      const dialog = page.getByRole('dialog', { name: `Edit contact group “${group}”` });
      await dialog.getByRole('button', { name: `Remove ${members[1]}`, exact: true }).click();
      await page.getByRole('status').getByText(`“${members[1]}” removed from “${group}”.`).waitFor();
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      await rowNamed(page, group).getByText('1 contact', { exact: true }).waitFor();
      assert.deepEqual(await membersOf(groupId), { count: 1, names: [members[0]] });
    },
    { hash: '#groups' },
  ));

test('deleting a group says its contacts are kept, and they are', () =>
  withConsole(
    'group-deleted',
    async (page) => {
      await page.getByRole('button', { name: `Delete ${group}` }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete contact group?' });
      await confirm.getByText('Its 1 contact is kept').waitFor();
      await confirm.getByRole('button', { name: 'Delete group' }).click();
      await page.getByRole('status').getByText(`Group “${group}” deleted; its contacts are kept.`).waitFor();
      assert.equal(await rowNamed(page, group).count(), 0);

      await page.getByRole('tab', { name: 'Contacts' }).click();
      await page.getByLabel('Search contacts by name').fill(`Frank ${run}`);
      await rowNamed(page, members[0]).getByText(`Day shift ${run}`).waitFor();
      assert.equal(await rowNamed(page, members[0]).getByText(group).count(), 0);
    },
    { hash: '#groups' },
  ));

test('Escape closes a dialog without saving and gives focus back to its button', () =>
  withConsole(
    'dialog-escape',
    async (page) => {
      const create = page.getByRole('button', { name: 'Create contact group' });
      await create.click();
      const dialog = page.getByRole('dialog', { name: 'Create contact group' });
      await dialog.getByLabel('Name').fill(`Never saved ${run}`);
      // Tab stays inside the dialog however far it goes.
      for (let i = 0; i < 12; i++) {
        await page.keyboard.press('Tab');
        assert.ok(await dialog.evaluate((d) => d.contains(document.activeElement)), `focus left the dialog after ${i + 1} Tab presses`);
      }
      // Twelve presses end in the Add members box, whose matches opened when it was focused: the
      // first Escape closes them, not the dialog.
      const find = dialog.getByRole('combobox', { name: 'Find contacts to add' });
      assert.ok(await find.evaluate((b) => b === document.activeElement), 'focus is not in the Add members box');
      assert.equal(await find.getAttribute('aria-expanded'), 'true');
      await page.keyboard.press('Escape');
      assert.equal(await find.getAttribute('aria-expanded'), 'false', 'Escape does not close the matches');
      assert.ok(await dialog.isVisible(), 'the Escape that closed the matches closed the dialog too');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      assert.ok(await create.evaluate((b) => b === document.activeElement), 'focus returns to the button that opened the dialog');
      assert.equal(await rowNamed(page, `Never saved ${run}`).count(), 0);
    },
    { hash: '#groups' },
  ));
