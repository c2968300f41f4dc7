// Contact groups: members chosen in the dialog, and deleting a group keeps its contacts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createContact, rowNamed, run, useBrowser, withConsole } from '../harness.js';
import { CREATE_GROUP } from '../documents.js';

useBrowser();

const group = `Night shift ${run}`;
const members = [`Frank ${run}`, `Grace ${run}`];

test('editing a group chooses its members', () =>
  withConsole(
    'group-members',
    async (page) => {
      await page.getByRole('button', { name: `Edit ${group}` }).click();
      const dialog = page.getByRole('dialog', { name: `Edit contact group “${group}”` });
      for (const name of members) await dialog.getByRole('checkbox', { name, exact: true }).check();
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await rowNamed(page, group).getByText('2 contacts').waitFor();
      await rowNamed(page, group).getByText(members.join(', ')).waitFor();
    },
    {
      hash: '#groups',
      setup: async () => {
        await api(CREATE_GROUP, { name: group });
        for (const name of members) await createContact(name);
      },
    },
  ));

test('deleting a group says its contacts are kept, and they are', () =>
  withConsole(
    'group-deleted',
    async (page) => {
      await page.getByRole('button', { name: `Delete ${group}` }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete contact group?' });
      await confirm.getByText('Its 2 contacts are kept').waitFor();
      await confirm.getByRole('button', { name: 'Delete group' }).click();
      await page.getByRole('status').getByText(`Group “${group}” deleted; its contacts are kept.`).waitFor();
      assert.equal(await rowNamed(page, group).count(), 0);

      await page.getByRole('tab', { name: 'Contacts' }).click();
      await page.getByLabel('Search contacts by name').fill(run);
      for (const name of members) {
        await rowNamed(page, name).getByText('No group').waitFor();
      }
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
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      assert.ok(await create.evaluate((b) => b === document.activeElement), 'focus returns to the button that opened the dialog');
      assert.equal(await rowNamed(page, `Never saved ${run}`).count(), 0);
    },
    { hash: '#groups' },
  ));
