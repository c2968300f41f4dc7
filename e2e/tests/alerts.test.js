// Alerts: preview what each robot gets, send, and watch the history until every delivery is final.
// The demo group "Everyone" reaches the demo's fake DingTalk, WeCom and Lark robots, which accept.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, useBrowser, withConsole } from '../harness.js';

useBrowser();

const title = `Disk almost full ${run}`;

// The send form's own fields: the template editor (a closed dialog) has a Title too.
const form = (page) => page.locator('#alert-form');

test('the preview shows each robot’s message before anything is sent', () =>
  withConsole(
    'alert-preview',
    async (page) => {
      await form(page).getByLabel('Title').fill(title);
      await form(page).getByLabel('Content').fill('**/var** is at 91%');
      await form(page).getByLabel('Severity').selectOption('CRITICAL');
      await page.getByRole('checkbox', { name: /^Everyone/ }).check();
      await page.getByRole('button', { name: 'Preview' }).click();
      const items = page.locator('#preview-list > li');
      await items.first().waitFor();
      assert.equal(await items.count(), 3);
      for (const platform of ['DingTalk', 'WeCom', 'Lark']) await items.getByText(platform, { exact: true }).waitFor();
      await items.locator('pre').first().getByText(title).waitFor();
    },
    { hash: '#alerts' },
  ));

test('an alert with no recipients is refused next to the recipients', () =>
  withConsole(
    'alert-no-recipients',
    async (page) => {
      await form(page).getByLabel('Title').fill(title);
      await form(page).getByLabel('Content').fill('nobody');
      await page.getByRole('button', { name: 'Send alert' }).click();
      await page.locator('.recipients > .field-error').getByText('no recipients').waitFor();
      assert.equal(await form(page).getByLabel('Title').inputValue(), title);
    },
    { hash: '#alerts' },
  ));

test('an alert sent to a group appears in the history and every delivery becomes Sent', () =>
  withConsole(
    'alert-sent',
    async (page) => {
      await form(page).getByLabel('Title').fill(title);
      await form(page).getByLabel('Content').fill('**/var** is at 91%');
      await page.getByRole('checkbox', { name: 'Mention each contact by phone' }).check();
      await page.getByRole('checkbox', { name: /^Everyone/ }).check();
      await page.getByRole('button', { name: 'Send alert' }).click();
      await page.getByRole('status').getByText(`Alert “${title}” accepted`).waitFor();

      const row = page.locator('#history-rows tr').filter({ hasText: title });
      await row.getByText('Delivered', { exact: true }).waitFor({ timeout: 20_000 });
      const statuses = await row.locator('.delivery .status-chip').allTextContents();
      assert.deepEqual(statuses, ['Sent', 'Sent', 'Sent']);
      await row.getByText('1 attempt · last: HTTP 200').first().waitFor();
      assert.equal(await form(page).getByLabel('Title').inputValue(), '', 'the form is cleared after sending');
    },
    { hash: '#alerts' },
  ));
