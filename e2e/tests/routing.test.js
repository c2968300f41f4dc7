// Routing, silences and quiet hours in the console: routes created in their dialog (an invalid
// regex refused at its value), moved, and tried with Test labels; a silence made from an alert row
// muting the next alert with those labels until it is expired; a group's quiet hours saved, shown
// again, holding routed alerts, and removed; and which roles are offered which actions.
//
// Every route matches only this file's team label, and every silence only its job label, so the
// other files' alerts (which run against the same Herald at the same time) never meet them.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, chosenNames, createContact, escapeRegExp, pick, rowNamed, run, screenshot, useBrowser, viewports, withConsole } from '../harness.js';
import { CONTACT_WEBHOOKS, CREATE_CONTACT, CREATE_GROUP, SEND_ALERT } from '../documents.js';

useBrowser();

const team = `db-${run}`;
const job = `backup-${run}`;
const group = `Routing ${run}`;
const member = `Rita ${run}`; // in the group
const direct = `Dan ${run}`; // named by a route directly; posts to the demo's fake WeCom robot
const first = `Database ${run}`;
const second = `Catch-all ${run}`;

before(async () => {
  const { createContactGroup } = await api(CREATE_GROUP, { name: group });
  await createContact(member, [createContactGroup.id]);
  const { contacts } = await api(CONTACT_WEBHOOKS, { s: 'Bob' });
  const url = contacts.edges[0]?.node.webhooks[0]?.url;
  assert.ok(url, 'the demo contact Bob has no webhook');
  await api(CREATE_CONTACT, { input: { name: direct, webhooks: [{ url }] } });
});

/** Retries check until it passes or 10 seconds went by, then fails with its last error. */
async function until(check) {
  const end = Date.now() + 10_000;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** This file's routes, in the order the table shows them. */
async function routeOrder(page) {
  return (await page.locator('#routes-rows th .name').allTextContents()).filter((n) => n.endsWith(run));
}

/** Tries labels in the Test labels panel and returns the names of the routes it says match. */
async function testLabels(page, labels, severity = 'WARNING') {
  const form = page.locator('#route-test-form');
  for (const [i, [name, value]] of labels.entries()) {
    if (i > 0 && (await form.locator('.matcher-row').count()) <= i) await form.getByRole('button', { name: 'Add label' }).click();
    await form.getByLabel(`Label ${i + 1} name`).fill(name);
    await form.getByLabel(`Label ${i + 1} value`).fill(value);
  }
  await form.getByLabel('Severity').selectOption(severity);
  const result = page.locator('#route-test-result');
  const before = await result.textContent();
  await form.getByRole('button', { name: 'Test', exact: true }).click();
  await until(async () => {
    assert.ok(await result.isVisible(), 'no test result');
    assert.notEqual(await result.textContent(), before, 'the test result did not change');
  });
  return result.getByRole('list', { name: 'Matching routes' }).locator('.route-name').allTextContents();
}

test('routes are created in their dialog, an invalid regex is refused at its value, and moving one changes the order', () =>
  withConsole(
    'routes-created',
    async (page) => {
      await page.getByRole('heading', { name: 'Routes', exact: true }).waitFor();
      await page.getByRole('button', { name: 'New route' }).click();
      let dialog = page.getByRole('dialog', { name: 'New route' });
      await dialog.getByLabel('Name', { exact: true }).fill(first);
      await dialog.getByLabel('Matcher 1 label').fill('team');
      await dialog.getByLabel('Matcher 1 value').fill(team);
      await pick(dialog, 'Groups', group);
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await page.getByRole('status').getByText(`Route “${first}” created`).waitFor();
      await rowNamed(page, first).getByText(`team="${team}"`, { exact: true }).waitFor();

      await page.getByRole('button', { name: 'New route' }).click();
      dialog = page.getByRole('dialog', { name: 'New route' });
      await dialog.getByLabel('Name', { exact: true }).fill(second);
      await dialog.getByLabel('Matcher 1 label').fill('team');
      await dialog.getByLabel('Matcher 1 operator').selectOption('REGEX');
      await dialog.getByLabel('Matcher 1 value').fill(`(db|web-${run}`);
      await dialog.getByRole('button', { name: 'Add matcher' }).click();
      assert.ok(await dialog.getByLabel('Matcher 2 label').evaluate((n) => n === document.activeElement), 'the added matcher is not focused');
      await dialog.getByLabel('Matcher 2 label').fill('severity');
      await dialog.getByLabel('Matcher 2 operator').selectOption('NEQ');
      await dialog.getByLabel('Matcher 2 value').fill('info');
      await pick(dialog, 'Contacts', direct);
      await dialog.getByRole('checkbox', { name: 'Continue' }).check();
      await dialog.getByRole('button', { name: 'Save' }).click();
      // Refused at the value of the first matcher, the dialog still open with what was typed.
      const valueError = dialog.locator('[data-field="input.matchers[0].value"] > .field-error');
      await valueError.getByText('not a regular expression').waitFor();
      assert.equal(await dialog.getByLabel('Matcher 1 value').getAttribute('aria-invalid'), 'true');
      assert.ok(await dialog.getByLabel('Matcher 1 value').evaluate((n) => n === document.activeElement), 'the field in error is not focused');
      assert.equal(await dialog.locator('[data-field="input.matchers[1].value"] > .field-error').isVisible(), false);
      await screenshot(page, 'route-invalid-regex');
      await dialog.getByLabel('Matcher 1 value').fill(`(db|web)-${run}`);
      assert.equal(await valueError.isVisible(), false, 'the error stays once the value is changed');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.waitFor({ state: 'hidden' });
      const row = rowNamed(page, second);
      await row.getByText(`team=~"(db|web)-${run}"`, { exact: true }).waitFor();
      await row.getByText('severity!="info"', { exact: true }).waitFor();
      await row.getByText('continue', { exact: true }).waitFor();
      await row.locator('.chip', { hasText: direct }).waitFor();

      assert.deepEqual(await routeOrder(page), [first, second]);
      await page.getByRole('button', { name: `Move up ${second}` }).click();
      await until(async () => assert.deepEqual(await routeOrder(page), [second, first]));
      assert.match(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), new RegExp(`^Move (up|down) ${escapeRegExp(second)}$`), 'focus left the moved route');
      await page.getByRole('status').getByText(`Route “${second}” moved up`).waitFor();
      await page.reload();
      await rowNamed(page, second).waitFor();
      assert.deepEqual(await routeOrder(page), [second, first], 'the new order was not kept');

      // Edited, a route shows what it holds.
      await page.getByRole('button', { name: `Edit ${first}` }).click();
      const edit = page.getByRole('dialog', { name: `Edit route “${first}”` });
      assert.deepEqual(await chosenNames(edit, 'Chosen groups'), [group], 'the route’s group is not chosen');
      assert.deepEqual(await chosenNames(edit, 'Chosen contacts'), []);
      assert.equal(await edit.getByLabel('Matcher 1 value').inputValue(), team);
      assert.equal(await edit.locator('.matcher-row').count(), 1);
      await page.keyboard.press('Escape');
      await edit.waitFor({ state: 'hidden' });
    },
    { hash: '#routes' },
  ));

test('Test labels shows the matching routes in order, their recipients, and when no route matches', () =>
  withConsole(
    'routes-tested',
    async (page) => {
      await rowNamed(page, first).waitFor();
      // The catch-all comes first now and continues, so both match, in that order.
      assert.deepEqual(await testLabels(page, [['team', team]]), [second, first]);
      const result = page.locator('#route-test-result');
      await result.locator('.chip', { hasText: group }).waitFor();
      await result.locator('.chip', { hasText: direct }).waitFor();
      await result.getByText('severity=warning').waitFor(); // the severity label added
      await result.getByText('No silence mutes it now.').waitFor();
      await screenshot(page, 'route-test');
      // At INFO the catch-all's severity!="info" fails.
      assert.deepEqual(await testLabels(page, [['team', team]], 'INFO'), [first]);
      assert.deepEqual(await testLabels(page, [['team', `web-${run}`]]), [second]);
      assert.deepEqual(await testLabels(page, [['team', `nobody-${run}`]]), []);
      await result.getByText('No route matches these labels').waitFor();
      // A row left empty is not sent; a label name with a space is refused at its own row.
      const form = page.locator('#route-test-form');
      await form.getByRole('button', { name: 'Add label' }).click();
      await form.getByRole('button', { name: 'Add label' }).click();
      await form.getByLabel('Label 3 name').fill('bad name');
      await form.getByLabel('Label 3 value').fill('x');
      await form.getByRole('button', { name: 'Test', exact: true }).click();
      await form.locator('[data-field="labels[2].name"] > .field-error').waitFor();
      assert.equal(await form.getByLabel('Label 3 name').getAttribute('aria-invalid'), 'true');
      assert.equal(await result.isVisible(), false, 'the result of other labels is still shown');
    },
    { hash: '#routes' },
  ));

test('a silence made from an alert row mutes the next alert with those labels, and expiring it ends that', () => {
  const labels = [{ name: 'job', value: job }, { name: 'team', value: team }];
  const send = (title) => api(SEND_ALERT, { input: { title, content: 'exit code 2', contactNames: [direct], labels } });
  return withConsole(
    'silence-from-alert',
    async (page) => {
      const history = (title) => page.locator('#history-rows tr').filter({ has: page.locator('th .name', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }) });
      await history(`Backup failed ${run}`).getByRole('button', { name: 'Silence alerts like this' }).click();
      const dialog = page.getByRole('dialog', { name: 'New silence' });
      // The alert's labels, sorted by name, as equality matchers.
      assert.equal(await dialog.locator('.matcher-row').count(), 2);
      for (const [i, l] of labels.entries()) {
        assert.equal(await dialog.getByLabel(`Matcher ${i + 1} label`).inputValue(), l.name);
        assert.equal(await dialog.getByLabel(`Matcher ${i + 1} operator`).inputValue(), 'EQ');
        assert.equal(await dialog.getByLabel(`Matcher ${i + 1} value`).inputValue(), l.value);
      }
      assert.equal(await dialog.getByLabel('Lasts').inputValue(), '1h');
      await dialog.locator('#silence-ends-hint').getByText(/^Ends .+\.$/).waitFor();
      assert.equal(await dialog.getByLabel('Comment').inputValue(), '');
      assert.ok(await dialog.getByLabel('Comment').evaluate((n) => n === document.activeElement), 'the comment, left to write, is not focused');
      // Every alert of the job, whatever its team.
      await dialog.getByRole('button', { name: 'Remove matcher 2' }).click();
      assert.equal(await dialog.locator('.matcher-row').count(), 1);
      await dialog.getByRole('button', { name: 'Create silence' }).click();
      await dialog.locator('[data-field="input.comment"] > .field-error').getByText('comment is required').waitFor();
      await dialog.getByLabel('Comment').fill(`Backup window ${run}`);
      await dialog.getByRole('button', { name: 'Create silence' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await page.getByRole('status').getByText(`Silence created: alerts matching job="${job}" are muted until`).waitFor();

      await send(`Backup failed again ${run}`);
      await page.locator('#history-status').selectOption('SILENCED');
      const muted = history(`Backup failed again ${run}`);
      await muted.locator('.status-chip', { hasText: 'Silenced' }).waitFor();
      await muted.getByText(`by the silence “Backup window ${run}”, until`).waitFor();
      assert.equal(await history(`Backup failed ${run}`).count(), 0, 'an alert sent before the silence is listed as silenced');
      await screenshot(page, 'alert-silenced');

      await page.getByRole('tab', { name: 'Routes & Silences' }).click();
      const silence = page.locator('#silences-rows tr').filter({ hasText: `job="${job}"` });
      await silence.getByText('Active', { exact: true }).waitFor();
      await silence.getByText(`Backup window ${run}`, { exact: true }).waitFor();
      await silence.getByRole('button', { name: /^Expire/ }).click();
      await page.getByRole('dialog', { name: 'Expire silence?' }).getByRole('button', { name: 'Expire silence' }).click();
      await silence.getByText('Expired', { exact: true }).waitFor();
      assert.equal(await silence.getByRole('button', { name: /^Expire/ }).count(), 0, 'an expired silence can be expired');
      await page.locator('#silence-state').selectOption('ACTIVE');
      await until(async () => assert.equal(await silence.count(), 0, 'an expired silence is listed as active'));
      await page.locator('#silence-state').selectOption('EXPIRED');
      await silence.waitFor();

      // Expired, it mutes nothing: the same labels are delivered.
      await send(`Backup failed once more ${run}`);
      await page.getByRole('tab', { name: 'Alerts' }).click();
      await page.locator('#history-status').selectOption('');
      await history(`Backup failed once more ${run}`).locator('td[data-label="Status"] .status-chip', { hasText: 'Delivered' }).waitFor({ timeout: 20_000 });
    },
    { hash: '#alerts', setup: () => send(`Backup failed ${run}`) },
  );
});

/** HH:MM of a time in UTC. */
function utcClock(ms) {
  return new Date(ms).toISOString().slice(11, 16);
}

test('a group’s quiet hours are saved, shown again when it is edited, hold its routed alerts, and are removed', () =>
  withConsole(
    'group-quiet-hours',
    async (page) => {
      const now = Date.now();
      const [from, to] = [utcClock(now - 3600e3), utcClock(now + 3600e3)];
      await page.getByRole('button', { name: `Edit ${group}` }).click();
      let dialog = page.getByRole('dialog', { name: `Edit contact group “${group}”` });
      await dialog.getByRole('button', { name: `Remove ${member}`, exact: true }).waitFor();
      assert.equal(await dialog.locator('.window-row').count(), 0);
      await dialog.getByRole('button', { name: 'Add window' }).click();
      const night = dialog.getByRole('group', { name: 'Window 1' });
      const zone = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
      assert.equal(await night.getByLabel('Time zone').inputValue(), zone, 'a new window is not in the browser’s zone');
      await night.getByRole('checkbox', { name: 'Monday' }).check();
      await night.getByRole('checkbox', { name: 'Friday' }).check();
      await night.getByLabel('Start').fill('22:00');
      await night.getByLabel('End').fill('07:30');
      await night.getByLabel('Time zone').fill('Asia/Shanghai');
      await dialog.getByRole('button', { name: 'Add window' }).click();
      // Every day, now: the group is quiet from the save on.
      const today = dialog.getByRole('group', { name: 'Window 2' });
      await today.getByLabel('Start').fill(from);
      await today.getByLabel('End').fill(to);
      await today.getByLabel('Time zone').fill('Mars/Olympus_Mons');
      await dialog.getByLabel('When quiet hours end').selectOption('DROP');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.locator('[data-field="input.quietHours[1].timeZone"] > .field-error').waitFor();
      assert.equal(await today.getByLabel('Time zone').getAttribute('aria-invalid'), 'true');
      await today.getByLabel('Time zone').fill('UTC');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.waitFor({ state: 'hidden' });
      const row = rowNamed(page, group);
      await row.getByText(/^quiet until /).waitFor();
      await row.getByText(`Quiet Mon, Fri 22:00–07:30 Asia/Shanghai; every day ${from}–${to} UTC · then dropped`).waitFor();

      await page.reload();
      await page.getByRole('button', { name: `Edit ${group}` }).click();
      dialog = page.getByRole('dialog', { name: `Edit contact group “${group}”` });
      await dialog.getByRole('button', { name: `Remove ${member}`, exact: true }).waitFor();
      assert.equal(await dialog.locator('.window-row').count(), 2);
      for (const day of ['Monday', 'Friday']) assert.ok(await night.getByRole('checkbox', { name: day }).isChecked(), `${day} is not ticked`);
      for (const day of ['Tuesday', 'Wednesday', 'Thursday', 'Saturday', 'Sunday']) {
        assert.equal(await night.getByRole('checkbox', { name: day }).isChecked(), false, `${day} is ticked`);
      }
      assert.equal(await night.getByLabel('Start').inputValue(), '22:00');
      assert.equal(await night.getByLabel('End').inputValue(), '07:30');
      assert.equal(await night.getByLabel('Time zone').inputValue(), 'Asia/Shanghai');
      assert.equal(await today.locator('input[name="weekday"]:checked').count(), 0, 'every day became some days');
      assert.equal(await today.getByLabel('Start').inputValue(), from);
      assert.equal(await today.getByLabel('End').inputValue(), to);
      assert.equal(await today.getByLabel('Time zone').inputValue(), 'UTC');
      assert.equal(await dialog.getByLabel('When quiet hours end').inputValue(), 'DROP');
      await screenshot(page, 'group-quiet-hours-dialog');
      await page.keyboard.press('Escape');

      // Test labels sees the hold; a routed alert is held for the group's member, not for the contact named directly.
      await page.getByRole('tab', { name: 'Routes & Silences' }).click();
      await testLabels(page, [['team', team]]);
      await page.locator('#route-test-result .quiet-holds li', { hasText: group }).getByText('then dropped').waitFor();
      await testLabels(page, [['team', team]], 'CRITICAL');
      await page.locator('#route-test-result').getByText('No group holds it.').waitFor();
      const title = `Routed while quiet ${run}`;
      await api(SEND_ALERT, { input: { title, content: 'replica lag', labels: [{ name: 'team', value: team }] } });
      await page.getByRole('tab', { name: 'Alerts' }).click();
      const alert = page.locator('#history-rows tr').filter({ hasText: title });
      await alert.getByText(`routed by ${second}, ${first}`).waitFor();
      await alert.locator('.delivery', { hasText: `held by the quiet hours of ${group} until` }).locator('.status-chip', { hasText: 'Held' }).waitFor();
      await screenshot(page, 'alert-held');

      // An emptied list removes them.
      await page.getByRole('tab', { name: 'Contact group' }).click();
      await page.getByRole('button', { name: `Edit ${group}` }).click();
      dialog = page.getByRole('dialog', { name: `Edit contact group “${group}”` });
      await dialog.getByRole('group', { name: 'Window 2' }).waitFor();
      await dialog.getByRole('button', { name: 'Remove window 2' }).click();
      await dialog.getByRole('button', { name: 'Remove window 1' }).click();
      assert.ok(await dialog.getByRole('button', { name: 'Add window' }).evaluate((n) => n === document.activeElement), 'focus is lost with the last window');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await row.getByText(/^quiet until /).waitFor({ state: 'detached' });
      assert.equal(await row.locator('.quiet-hours').count(), 0);
    },
    { hash: '#groups' },
  ));

test('an integration that routes by labels needs no recipients of its own, and says so', () =>
  withConsole(
    'integration-routed',
    async (page) => {
      const name = `Routed source ${run}`;
      await page.getByRole('button', { name: 'New integration' }).click();
      const dialog = page.getByRole('dialog', { name: 'New integration' });
      await dialog.getByLabel('Name').fill(name);
      await dialog.getByRole('checkbox', { name: 'Route by labels' }).check();
      await dialog.getByText('(optional: for alerts no route matches)').first().waitFor();
      await dialog.getByRole('button', { name: 'Save' }).click();
      const shown = page.getByRole('dialog', { name: `Integration “${name}” created` });
      await shown.getByRole('button', { name: 'Done' }).click();
      const row = rowNamed(page, name);
      await row.getByText('Routed by labels only', { exact: true }).waitFor();
      await row.getByText(/routed by labels$/).waitFor();
      await page.getByRole('button', { name: `Edit ${name}` }).click();
      const edit = page.getByRole('dialog', { name: `Edit integration “${name}”` });
      assert.ok(await edit.getByRole('checkbox', { name: 'Route by labels' }).isChecked(), 'routeByLabels was not kept');
      assert.deepEqual(await chosenNames(edit, 'Chosen contacts'), [], 'it has recipients of its own');
      await page.keyboard.press('Escape');
    },
    { hash: '#integrations' },
  ));

test('the Routes & Silences tab and its dialogs fit a phone screen', () =>
  withConsole(
    'phone-routes',
    async (page) => {
      const look = async (name) => {
        await screenshot(page, name);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${name}: the page scrolls sideways by ${overflow}px`);
      };
      await rowNamed(page, first).waitFor();
      await page.locator('#silences-rows tr').first().waitFor();
      await look('phone-routes');
      await page.getByRole('button', { name: `Edit ${second}` }).click();
      await page.getByRole('dialog', { name: `Edit route “${second}”` }).getByLabel('Matcher 2 value').waitFor();
      await look('phone-route-dialog');
      await page.keyboard.press('Escape');
      await page.getByRole('button', { name: 'New silence' }).click();
      await page.getByRole('dialog', { name: 'New silence' }).getByLabel('Lasts').selectOption('custom');
      await look('phone-silence-dialog');
      await page.keyboard.press('Escape');
    },
    { hash: '#routes', viewport: viewports.phone },
  ));

// ---- Roles ----

const tokens = { 'viewer-token': 'VIEWER', 'sender-token': 'SENDER' };

/** Plays the authentication contract in front of the open-mode Herald, as access.test.js does. */
function asRole(token) {
  return async (page) => {
    await page.addInitScript((t) => sessionStorage.setItem('herald.token', t), token);
    await page.route('**/query', async (route) => {
      const role = tokens[(route.request().headers().authorization ?? '').replace(/^Bearer /, '')];
      const { query } = route.request().postDataJSON();
      if (query.includes('__type')) return route.fulfill({ json: { data: { __type: { fields: [{ name: 'contacts' }, { name: 'me' }] } } } });
      if (query.includes('me {')) return route.fulfill({ json: { data: { me: { role } } } });
      const headers = route.request().headers();
      delete headers.authorization;
      return route.continue({ headers });
    });
  };
}

test('a VIEWER sees routes and silences but may change neither; a SENDER may silence but not route', async () => {
  await withConsole(
    'routes-viewer',
    async (page) => {
      await rowNamed(page, first).waitFor();
      await page.locator('#silences-rows tr').first().waitFor();
      await page.getByRole('button', { name: 'Test', exact: true }).waitFor();
      for (const name of ['New route', `Move up ${first}`, `Edit ${first}`, `Delete ${first}`, 'New silence']) {
        assert.equal(await page.getByRole('button', { name }).count(), 0, `${name} is offered to a VIEWER`);
      }
      await page.getByRole('tab', { name: 'Alerts' }).click();
      await page.locator('#history-rows tr').first().waitFor();
      assert.equal(await page.getByRole('button', { name: 'Silence alerts like this' }).count(), 0, 'a VIEWER may silence');
    },
    { hash: '#routes', setup: asRole('viewer-token') },
  );
  await withConsole(
    'routes-sender',
    async (page) => {
      await rowNamed(page, first).waitFor();
      await page.getByRole('button', { name: 'New silence' }).waitFor();
      for (const name of ['New route', `Move up ${first}`, `Edit ${first}`, `Delete ${first}`]) {
        assert.equal(await page.getByRole('button', { name }).count(), 0, `${name} is offered to a SENDER`);
      }
      await page.getByRole('tab', { name: 'Alerts' }).click();
      await page.getByRole('button', { name: 'Silence alerts like this' }).first().waitFor();
    },
    { hash: '#routes', setup: asRole('sender-token') },
  );
});

test('deleting a route asks first, and the routes after it move up', () =>
  withConsole(
    'route-deleted',
    async (page) => {
      await rowNamed(page, second).waitFor();
      assert.deepEqual(await routeOrder(page), [second, first]);
      const position = async () => Number(await rowNamed(page, first).locator('td.position').textContent());
      const was = await position();
      await page.getByRole('button', { name: `Delete ${second}` }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete route?' });
      await confirm.getByText('the routes after it move up').waitFor();
      await confirm.getByRole('button', { name: 'Cancel' }).click();
      assert.deepEqual(await routeOrder(page), [second, first], 'Cancel deleted the route');
      await page.getByRole('button', { name: `Delete ${second}` }).click();
      await confirm.getByRole('button', { name: 'Delete route' }).click();
      await page.getByRole('status').getByText(`Route “${second}” deleted.`).waitFor();
      assert.deepEqual(await routeOrder(page), [first]);
      assert.equal(await position(), was - 1, 'the route after it did not move up');
    },
    { hash: '#routes' },
  ));
