// Alerts: preview what each robot gets, send, and watch the history until every delivery is final.
// The demo group "Everyone" reaches the demo's fake DingTalk, WeCom and Lark robots, which accept.
// Alerts that name no recipients go where the routes their labels match send them: this file's
// route matches only its own team label, so the other files' alerts never meet it.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, escapeRegExp, pick, run, screenshot, useBrowser, withConsole } from '../harness.js';
import { CONTACT_WEBHOOKS, CREATE_CONTACT, SEND_ALERT } from '../documents.js';
// The console's own operations, which Herald always trusts, for this file's route and silence and
// to read an alert's deliveries.
import { ALERT_DELIVERIES, CREATE_ROUTE, CREATE_SILENCE, PICK_GROUPS } from '../../console/static/documents.js';

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
      await pick(form(page), 'Groups', 'Everyone');
      await page.getByRole('button', { name: 'Preview' }).click();
      const items = page.locator('#preview-list > li');
      await items.first().waitFor();
      assert.equal(await items.count(), 3);
      for (const platform of ['DingTalk', 'WeCom', 'Lark']) await items.getByText(platform, { exact: true }).waitFor();
      await items.locator('.chat').first().getByText(title).waitFor();
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
      await pick(form(page), 'Groups', 'Everyone');
      await page.getByRole('button', { name: 'Send alert' }).click();
      await page.getByRole('status').getByText(`Alert “${title}” accepted`).waitFor();

      const row = page.locator('#history-rows tr').filter({ hasText: title });
      await row.getByText('Delivered', { exact: true }).waitFor({ timeout: 20_000 });
      const statuses = await row.locator('.delivery .status-chip').allTextContents();
      assert.deepEqual(statuses, ['Sent', 'Sent', 'Sent']);
      assert.deepEqual(await row.getByRole('list', { name: 'Deliveries by status' }).locator('li').allTextContents(), ['3 sent']);
      assert.equal(await row.getByRole('button', { name: /^More deliveries/ }).isVisible(), false, 'More is offered for three deliveries');
      await row.getByText('1 attempt · last: HTTP 200').first().waitFor();
      assert.equal(await form(page).getByLabel('Title').inputValue(), '', 'the form is cleared after sending');
    },
    { hash: '#alerts' },
  ));

// Routed by labels: a route matching only this file's team label sends to the demo group On-call
// (Alice and Carol: the DingTalk and Lark robots, not Bob's WeCom one).
const team = `send-form-${run}`;
const routeName = `Send form ${run}`;

before(async () => {
  const { groups } = await api(PICK_GROUPS, { search: 'On-call' });
  const onCall = groups.edges.map((e) => e.node).find((g) => g.name === 'On-call');
  assert.ok(onCall, 'the demo group On-call is missing');
  await api(CREATE_ROUTE, { input: { name: routeName, matchers: [{ label: 'team', op: 'EQ', value: team }], groupIds: [onCall.id] } });
});

test('an alert with labels and no recipients is previewed and sent through the route they match', () =>
  withConsole(
    'alert-routed',
    async (page) => {
      const routed = `Replica lag ${run}`;
      const f = form(page);
      await f.getByRole('link', { name: 'Routes & Silences' }).waitFor();
      await f.getByLabel('Title').fill(routed);
      await f.getByLabel('Content').fill('replica 3 is 40 s behind');
      await f.getByLabel('Label 1 name').fill('team');
      await f.getByLabel('Label 1 value').fill(team);
      await page.getByRole('button', { name: 'Preview' }).click();
      const items = page.locator('#preview-list > li');
      await items.first().waitFor();
      assert.equal(await items.count(), 2, 'the preview does not list the route’s two robots');
      for (const platform of ['DingTalk', 'Lark']) await items.getByText(platform, { exact: true }).waitFor();
      assert.equal(await items.getByText('WeCom', { exact: true }).count(), 0, 'a robot outside the route’s group is previewed');
      await items.getByText('to Alice (on call), Carol').first().waitFor();
      await screenshot(page, 'alert-routed-preview');

      await page.getByRole('button', { name: 'Send alert' }).click();
      await page.getByRole('status').getByText(`Alert “${routed}” accepted`).waitFor();
      const row = page.locator('#history-rows tr').filter({ has: page.locator('th .name', { hasText: new RegExp(`^${escapeRegExp(routed)}$`) }) });
      await row.getByText(`routed by ${routeName}`, { exact: true }).waitFor();
      await row.getByRole('list', { name: 'Labels' }).getByText(team).waitFor();
      await row.getByText('Delivered', { exact: true }).waitFor({ timeout: 20_000 });
      assert.equal(await row.locator('.delivery').count(), 2);
      assert.equal(await f.getByLabel('Label 1 value').inputValue(), '', 'the labels are not cleared after sending');
      assert.equal(await f.locator('#alert-labels .matcher-row').count(), 1);
    },
    { hash: '#alerts' },
  ));

test('labels no route matches are refused below the label rows, and a label name with a space at its row', () =>
  withConsole(
    'alert-label-errors',
    async (page) => {
      const f = form(page);
      await f.getByLabel('Title').fill(title);
      await f.getByLabel('Content').fill('nobody routes this');
      await f.getByLabel('Label 1 name').fill('team');
      await f.getByLabel('Label 1 value').fill(`nobody-${run}`);
      await page.getByRole('button', { name: 'Send alert' }).click();
      const blockError = f.locator('.recipients > .field-error');
      await blockError.getByText('no route matches these labels').waitFor();

      // Row 2 left empty is not sent, so the server's labels[1] is row 3.
      await f.getByRole('button', { name: 'Add label' }).click();
      assert.ok(await f.getByLabel('Label 2 name').evaluate((n) => n === document.activeElement), 'the added label is not focused');
      await f.getByRole('button', { name: 'Add label' }).click();
      await f.getByLabel('Label 3 name').fill('bad name');
      await f.getByLabel('Label 3 value').fill('x');
      await page.getByRole('button', { name: 'Preview' }).click();
      const nameError = f.locator('[data-field="input.labels[2].name"] > .field-error');
      await nameError.getByText('without spaces').waitFor();
      assert.equal(await f.getByLabel('Label 3 name').getAttribute('aria-invalid'), 'true');
      assert.ok(await f.getByLabel('Label 3 name').evaluate((n) => n === document.activeElement), 'the label in error is not focused');
      assert.equal(await f.locator('[data-field="input.labels[1].name"] > .field-error').isVisible(), false);
      assert.equal(await blockError.isVisible(), false, 'the earlier error is still shown');
      assert.equal(await page.locator('#preview').isVisible(), false, 'a preview is shown for refused labels');
      await screenshot(page, 'alert-label-error');

      await f.getByRole('button', { name: 'Remove label 3' }).click();
      assert.equal(await f.locator('#alert-labels .matcher-row').count(), 2);
      await page.getByRole('button', { name: 'Send alert' }).click();
      await blockError.getByText('no route matches these labels').waitFor();
      assert.equal(await f.getByLabel('Title').inputValue(), title);
    },
    { hash: '#alerts' },
  ));

test('the preview says when a silence would mute a routed alert', () =>
  withConsole(
    'alert-preview-silenced',
    async (page) => {
      const job = `send-form-silenced-${run}`;
      await api(CREATE_SILENCE, {
        input: {
          matchers: [{ label: 'job', op: 'EQ', value: job }],
          endsAt: new Date(Date.now() + 3600e3).toISOString(),
          comment: `Maintenance ${run}`,
        },
      });
      const f = form(page);
      await f.getByLabel('Title').fill(title);
      await f.getByLabel('Content').fill('muted');
      await f.getByLabel('Label 1 name').fill('team');
      await f.getByLabel('Label 1 value').fill(team);
      await f.getByRole('button', { name: 'Add label' }).click();
      await f.getByLabel('Label 2 name').fill('job');
      await f.getByLabel('Label 2 value').fill(job);
      await page.getByRole('button', { name: 'Preview' }).click();
      const items = page.locator('#preview-list > li');
      await items.first().waitFor();
      assert.equal(await items.count(), 2);
      const notes = await items.locator('.preview-note').allTextContents();
      assert.equal(notes.length, 2, 'a robot’s message has no note');
      for (const note of notes) assert.match(note, new RegExp(`mutes this alert .*nothing would be sent`));
      await items.locator('.preview-note').first().getByText(`Maintenance ${run}`).waitFor();
    },
    { hash: '#alerts' },
  ));

// 25 robots: the demo's DingTalk robot (Alice's), which accepts, and 24 more on the same fake
// DingTalk with tokens it does not know, which it refuses for good: 1 sent, 24 failed.
const many = `Sent to many robots ${run}`;
let manyId;

test('an alert with more deliveries than a page shows 20 and the counts; More loads the rest, and the filter one status', () =>
  withConsole(
    'alert-many-deliveries',
    async (page) => {
      const row = page.locator('#history-rows tr').filter({ has: page.locator('th .name', { hasText: new RegExp(`^${escapeRegExp(many)}$`) }) });
      await row.locator('td[data-label="Status"]').getByText('Partially delivered', { exact: true }).waitFor({ timeout: 30_000 });
      const counts = row.getByRole('list', { name: 'Deliveries by status' });
      await counts.getByText('1 sent', { exact: true }).waitFor();
      assert.deepEqual(await counts.locator('li').allTextContents(), ['1 sent', '24 failed']);
      const shown = row.locator('.delivery');
      assert.equal(await shown.count(), 20);
      await row.locator('.range').getByText('20 of 25').waitFor();

      const { alert } = await api(ALERT_DELIVERIES, { id: manyId, first: 100, after: null, status: null });
      const urls = alert.deliveries.map((d) => d.url);
      assert.equal(urls.length, 25);
      assert.deepEqual(await shown.locator('.url').allTextContents(), urls.slice(0, 20), 'the first page is not the first 20 in creation order');
      await row.getByRole('button', { name: /^More deliveries/ }).click();
      await row.locator('.range').getByText('25 of 25').waitFor();
      assert.deepEqual(await shown.locator('.url').allTextContents(), urls, 'More did not load the other five');
      assert.equal(await row.getByRole('button', { name: /^More deliveries/ }).isVisible(), false, 'More is offered past the end');
      await screenshot(page, 'alert-many-deliveries-all');

      const filter = row.getByRole('combobox', { name: /^Deliveries of .* shown$/ });
      await filter.selectOption('SENT');
      await row.locator('.range').getByText('1 of 1').waitFor();
      assert.deepEqual(await shown.locator('.status-chip').allTextContents(), ['Sent']);
      await filter.selectOption('FAILED');
      await row.locator('.range').getByText('20 of 24').waitFor();
      assert.deepEqual(new Set(await shown.locator('.status-chip').allTextContents()), new Set(['Failed']));
      await row.getByRole('button', { name: /^More deliveries/ }).click();
      await row.locator('.range').getByText('24 of 24').waitFor();
      assert.equal(await shown.count(), 24);
    },
    {
      hash: '#alerts',
      setup: async () => {
        const { contacts } = await api(CONTACT_WEBHOOKS, { s: 'Alice' });
        const alice = contacts.edges[0]?.node.webhooks[0]?.url;
        assert.ok(alice?.includes('access_token='), `the demo contact Alice has no DingTalk webhook: ${alice}`);
        const ids = await Promise.all(
          Array.from({ length: 24 }, async (_, i) => {
            const url = `${alice.replace(/access_token=.*$/, 'access_token=')}unknown-${run}-${i}`;
            return (await api(CREATE_CONTACT, { input: { name: `Robot ${run} ${i}`, webhooks: [{ url }] } })).createContact.id;
          }),
        );
        const { sendAlert } = await api(SEND_ALERT, { input: { title: many, content: 'to 25 robots', contactIds: ids, contactNames: ['Alice (on call)'] } });
        manyId = sendAlert.id;
      },
    },
  ));
