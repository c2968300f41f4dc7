// Contacts and groups managed the way a person does it: through the dialogs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, chosenNames, createContact, pick, rowNamed, run, screenshot, useBrowser, withConsole } from '../harness.js';
import { CONTACT_WEBHOOKS } from '../documents.js';

useBrowser();

const ops = `Ops ${run}`;
const db = `DBA ${run}`;
const person = `Dana ${run}`;
const hookA = `https://oapi.dingtalk.com/robot/send?access_token=e2e-${run}`;
const hookB = `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=e2e-${run}`;

test('creating two contact groups lists both', () =>
  withConsole('groups-created', async (page) => {
    await page.getByRole('tab', { name: 'Contact group' }).click();
    for (const [name, description] of [[ops, 'Operations on call'], [db, 'Database administrators']]) {
      await page.getByRole('button', { name: 'Create contact group' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create contact group' });
      await dialog.getByLabel('Name').fill(name);
      await dialog.getByLabel('Description').fill(description);
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await rowNamed(page, name).getByText(description).waitFor();
    }
  }));

test('a new contact joins both groups with two comma-separated webhooks, each with its own secret and keyword', () =>
  withConsole('contact-created', async (page) => {
    await page.getByRole('button', { name: 'New contact' }).click();
    const dialog = page.getByRole('dialog', { name: 'New contact' });
    await dialog.getByLabel('Name').fill(person);
    await pick(dialog, 'Groups', ops);
    await pick(dialog, 'Groups', db);
    await dialog.getByLabel('Webhook').fill(`${hookA}, ${hookB}`);
    // One row per URL appears once the URLs are typed.
    await dialog.locator('#hook-1-secret').waitFor();
    await dialog.locator('#hook-0-secret').fill('SECe2e');
    await dialog.locator('#hook-1-keyword').fill('Herald');
    await screenshot(page, 'contact-dialog');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });

    const row = rowNamed(page, person);
    await row.waitFor();
    for (const text of [ops, db, hookA, hookB, 'DingTalk', 'WeCom', 'signed', 'Herald']) {
      await row.getByText(text, { exact: true }).first().waitFor();
    }
    const { contacts } = await api(CONTACT_WEBHOOKS, { s: person });
    assert.deepEqual(contacts.edges[0].node.webhooks, [
      { url: hookA, hasSecret: true, keyword: null },
      { url: hookB, hasSecret: false, keyword: 'Herald' },
    ]);
  }));

test('editing a contact renames it, drops a group and a webhook, and keeps the stored secret', () =>
  withConsole('contact-edited', async (page) => {
    await page.getByRole('button', { name: `Edit ${person}` }).click();
    const dialog = page.getByRole('dialog', { name: `Edit contact “${person}”` });
    assert.equal(await dialog.getByLabel('Webhook').inputValue(), `${hookA}, ${hookB}`);
    await dialog.getByLabel('Name').fill(`${person} (lead)`);
    assert.deepEqual(await chosenNames(dialog, 'Chosen groups'), [db, ops], 'the contact’s groups are not chosen');
    await dialog.getByRole('button', { name: `Remove ${db}`, exact: true }).click();
    assert.deepEqual(await chosenNames(dialog, 'Chosen groups'), [ops]);
    await dialog.getByLabel('Webhook').fill(hookA);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });

    const row = rowNamed(page, `${person} (lead)`);
    await row.getByText(hookA).waitFor();
    assert.equal(await row.getByText(hookB).count(), 0);
    assert.equal(await row.getByText(db).count(), 0);
    await row.getByText('signed').waitFor();
  }));

test('a duplicate name is reported next to Name and nothing typed is lost', () =>
  withConsole('duplicate-name', async (page) => {
    await page.getByRole('button', { name: 'New contact' }).click();
    const dialog = page.getByRole('dialog', { name: 'New contact' });
    const name = dialog.getByLabel('Name');
    await name.fill(`${person} (LEAD)`); // names are unique regardless of case
    await pick(dialog, 'Groups', ops);
    await dialog.getByLabel('Webhook').fill(hookB);
    await dialog.getByRole('button', { name: 'Save' }).click();

    const error = dialog.locator('[data-field="input.name"] .field-error');
    await error.getByText('already exists').waitFor();
    assert.equal(await name.getAttribute('aria-invalid'), 'true');
    assert.ok((await name.getAttribute('aria-describedby')).includes(await error.getAttribute('id')));
    assert.ok(await dialog.isVisible(), 'the dialog stays open');
    assert.equal(await name.inputValue(), `${person} (LEAD)`);
    assert.equal(await dialog.getByLabel('Webhook').inputValue(), hookB);
    assert.deepEqual(await chosenNames(dialog, 'Chosen groups'), [ops], 'the chosen group is lost');

    // A refused URL is reported on its own row.
    await name.fill(`Erin ${run}`);
    await dialog.getByLabel('Webhook').fill(`${hookB}, http://intranet.example/robot/send?access_token=x`);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.locator('[data-field="input.webhooks[1].url"] .field-error').getByText('not an official platform host').waitFor();
    await screenshot(page, 'webhook-error');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  }));

test('batch delete removes the checked contacts only', () =>
  withConsole(
    'batch-deleted',
    async (page) => {
      await page.getByLabel('Search contacts by name').fill(`Batch ${run}`);
      await page.locator('#panel-contacts .range').getByText('1–3 of 3').waitFor();
      for (const n of [1, 2]) await page.getByRole('checkbox', { name: `Select Batch ${run} ${n}` }).check();
      await page.getByText('2 selected').waitFor();
      await page.getByRole('button', { name: 'Batch Delete' }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete 2 contacts?' });
      await confirm.getByRole('button', { name: 'Delete 2' }).click();
      await page.getByText('2 contacts deleted.').waitFor();
      await rowNamed(page, `Batch ${run} 3`).waitFor();
      assert.equal(await page.locator('#contacts-rows tr').count(), 1);
    },
    {
      setup: async () => {
        for (const n of [1, 2, 3]) await createContact(`Batch ${run} ${n}`);
      },
    },
  ));

test('Send test queues a test message for the contact', () =>
  withConsole('send-test', async (page) => {
    await page.getByRole('button', { name: 'Send test to Bob' }).click();
    await page.getByRole('status').getByText(/Test message to “Bob” queued as alert #\d+/).waitFor();
  }));

test('Previous pages back from the first row shown, so rows added meanwhile are not skipped', () => {
  const sent = [];
  return withConsole(
    'pagination',
    async (page) => {
      await page.getByLabel('Search contacts by name').fill(`Page ${run}`);
      const range = page.locator('#panel-contacts .range');
      const previous = page.getByRole('button', { name: 'Previous' });
      await range.getByText('1–20 of 23').waitFor();
      assert.ok(await previous.isDisabled());
      await page.getByRole('button', { name: 'Next' }).click();
      await range.getByText('21–23 of 23').waitFor();
      await rowNamed(page, `Page ${run} 23`).waitFor();
      assert.ok(await page.getByRole('button', { name: 'Next' }).isDisabled());
      // Someone adds a contact that sorts first while this page is shown.
      await createContact(`Page ${run} 00`);
      await previous.click();
      await rowNamed(page, `Page ${run} 20`).waitFor();
      await rowNamed(page, `Page ${run} 01`).waitFor();
      const back = sent.at(-1);
      assert.equal(back.last, 20, 'Previous asks for the last 20 rows');
      assert.ok(back.before, 'before the first row shown');
      assert.equal(back.first ?? null, null, 'and not for first');
      assert.ok(await previous.isEnabled(), 'the added contact is a page further back');
      await previous.click();
      await rowNamed(page, `Page ${run} 00`).waitFor();
      assert.ok(await previous.isDisabled());
    },
    {
      setup: async (page) => {
        for (let n = 1; n <= 23; n++) await createContact(`Page ${run} ${String(n).padStart(2, '0')}`);
        page.on('request', (req) => {
          const body = req.url().endsWith('/query') && req.postDataJSON();
          if (body?.query?.startsWith('query Contacts(')) sent.push(body.variables);
        });
      },
    },
  );
});

