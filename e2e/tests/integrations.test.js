// Integrations: an Alertmanager created in the console, its token shown once, a real notification
// posted to its hook URL becoming an alert with its labels and source, role-based hiding, and
// token rotation refusing the old token. The recipient is a contact of this file's own group that
// posts to the demo's fake WeCom robot (Bob's), so the alert's delivery succeeds.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createContact, escapeRegExp, rowNamed, run, useBrowser, withConsole } from '../harness.js';
import { CONTACT_WEBHOOKS, CREATE_CONTACT, CREATE_GROUP } from '../documents.js';

useBrowser();

const group = `Database team ${run}`;
const member = `Dora ${run}`;
const integration = `Prometheus ${run}`;

// The integration the first test creates, for the later ones.
const created = { token: '', url: '' };

before(async () => {
  const { createContactGroup } = await api(CREATE_GROUP, { name: group });
  const { contacts } = await api(CONTACT_WEBHOOKS, { s: 'Bob' });
  const url = contacts.edges[0]?.node.webhooks[0]?.url;
  if (url) {
    await api(CREATE_CONTACT, { input: { name: member, groupIds: [createContactGroup.id], webhooks: [{ url }] } });
  } else {
    await createContact(member, [createContactGroup.id]); // no demo robot: the delivery may fail, the alert still shows
  }
});

/** An Alertmanager (payload version 4) notification of one firing alert. */
function notification(alertname = 'DiskFull') {
  const labels = { alertname, instance: 'db1:9100', severity: 'critical' };
  return {
    receiver: 'herald',
    status: 'firing',
    alerts: [{
      status: 'firing',
      labels,
      annotations: { summary: 'db1 95%' },
      startsAt: '2026-12-01T08:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prom:9090/graph',
      fingerprint: '3d8fc23df68d2038',
    }],
    groupLabels: { alertname },
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: 'http://am:9093',
    version: '4',
    groupKey: `{}:{alertname="${alertname}"}`,
    truncatedAlerts: 0,
  };
}

/** Posts a notification to a hook URL the way Alertmanager does; returns the HTTP status. */
async function postHook(url, token, body = notification()) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.text();
  return res.status;
}

/** Reads the shown-once dialog's token and URL, checks its snippet, and closes it. */
async function readShownOnce(dialog) {
  await dialog.getByText('This token is shown once').waitFor();
  const token = await dialog.getByRole('textbox', { name: 'Token', exact: true }).inputValue();
  const url = await dialog.getByRole('textbox', { name: 'Hook URL', exact: true }).inputValue();
  assert.match(token, /^hrldh_/);
  assert.match(url, /^https?:\/\/.+\/hooks\/[^/]+$/);
  const snippet = await dialog.locator('#integration-snippet').textContent();
  assert.match(snippet, /^receivers:\n {2}- name: herald\n {4}webhook_configs:\n/);
  assert.ok(snippet.includes(`      - url: '${url}'\n        send_resolved: true\n`), snippet);
  assert.ok(snippet.includes(`            type: Bearer\n            credentials: '${token}'`), snippet);
  await dialog.getByRole('button', { name: 'Copy the token' }).waitFor();
  await dialog.getByRole('button', { name: 'Copy the hook URL' }).waitFor();
  await dialog.getByRole('button', { name: 'Done' }).click();
  await dialog.waitFor({ state: 'hidden' });
  return { token, url };
}

test('an Alertmanager integration created in the console takes a notification, which shows with its labels and source', () =>
  withConsole(
    'integration-created',
    async (page) => {
      await page.getByRole('button', { name: 'New integration' }).click();
      const dialog = page.getByRole('dialog', { name: 'New integration' });
      await dialog.getByLabel('Name').fill(integration);
      // The signing secret is Grafana's only.
      assert.equal(await dialog.getByLabel(/Signing secret/).isVisible(), false, 'a signing secret is offered for Alertmanager');
      await dialog.getByLabel('Kind').selectOption('GRAFANA');
      await dialog.getByLabel(/Signing secret/).waitFor();
      await dialog.getByLabel('Kind').selectOption('ALERTMANAGER');
      await dialog.getByLabel(/Signing secret/).waitFor({ state: 'hidden' });
      assert.ok(await dialog.getByRole('checkbox', { name: 'Send resolved notices' }).isChecked(), 'resolved notices are sent by default');
      assert.equal(await dialog.getByLabel('Time zone').inputValue(), 'UTC');
      await dialog.getByRole('checkbox', { name: new RegExp(`^${escapeRegExp(group)}`) }).check();
      await dialog.getByRole('button', { name: 'Save' }).click();

      const shown = page.getByRole('dialog', { name: `Integration “${integration}” created` });
      Object.assign(created, await readShownOnce(shown));

      const row = rowNamed(page, integration);
      await row.getByText('never', { exact: true }).waitFor();
      await row.getByText('Alertmanager', { exact: true }).waitFor();
      await row.locator('.chip', { hasText: group }).waitFor();
      await row.getByText(created.url, { exact: true }).waitFor();

      assert.equal(await postHook(created.url, created.token), 202, 'the hook accepts the notification');

      await page.reload();
      await rowNamed(page, integration).locator('td.received time').waitFor();
      assert.equal(await rowNamed(page, integration).getByText('never', { exact: true }).count(), 0, 'lastReceivedAt is still "never"');

      await page.getByRole('tab', { name: 'Alerts' }).click();
      const alert = page.locator('#history-rows tr').filter({ hasText: `from ${integration} (Alertmanager)` });
      await alert.getByText(/DiskFull/).first().waitFor();
      for (const label of ['alertname=DiskFull', 'instance=db1:9100', 'severity=critical']) {
        await alert.locator('.label-chip', { hasText: label }).waitFor();
      }
      assert.equal(await alert.locator('.resolved-badge').count(), 0, 'a firing alert is marked resolved');
    },
    { hash: '#integrations' },
  ));

test('a VIEWER sees integrations but cannot create, edit, rotate or delete them', () =>
  withConsole(
    'integrations-viewer',
    async (page) => {
      await page.getByRole('dialog', { name: 'Sign in to Herald' }).getByLabel('Access token').fill('viewer-token');
      await page.keyboard.press('Enter');
      await rowNamed(page, integration).waitFor();
      await page.getByText('viewer', { exact: true }).waitFor();
      for (const name of ['New integration', `Edit ${integration}`, `Rotate the token of ${integration}`, `Delete ${integration}`]) {
        assert.equal(await page.getByRole('button', { name }).count(), 0, `${name} is offered to a VIEWER`);
      }
    },
    {
      hash: '#integrations',
      // As in access.test.js: a route in front of /query plays the token contract; Herald itself runs open.
      setup: (page) =>
        page.route('**/query', async (route) => {
          const auth = route.request().headers().authorization ?? '';
          const { query } = route.request().postDataJSON();
          if (auth !== 'Bearer viewer-token') {
            return route.fulfill({ json: { errors: [{ message: 'a token is required', extensions: { code: 'UNAUTHENTICATED' } }], data: null } });
          }
          if (query.includes('__type')) return route.fulfill({ json: { data: { __type: { fields: [{ name: 'integrations' }, { name: 'me' }] } } } });
          if (query.includes('me {')) return route.fulfill({ json: { data: { me: { role: 'VIEWER' } } } });
          const headers = route.request().headers();
          delete headers.authorization;
          return route.continue({ headers });
        }),
    },
  ));

test('rotating the token shows the new one once, and the old one is refused', () =>
  withConsole(
    'integration-rotated',
    async (page) => {
      assert.ok(created.token, 'the first test created the integration');
      await page.getByRole('button', { name: `Rotate the token of ${integration}` }).click();
      const confirm = page.getByRole('dialog', { name: 'Rotate the token?' });
      await confirm.getByText('The current token is refused').waitFor();
      await confirm.getByRole('button', { name: 'Rotate token' }).click();

      const shown = page.getByRole('dialog', { name: `New token for “${integration}”` });
      const rotated = await readShownOnce(shown);
      assert.notEqual(rotated.token, created.token, 'the token did not change');
      assert.equal(rotated.url, created.url, 'the hook URL changed with the token');

      assert.equal(await postHook(created.url, created.token, notification('TokenRotated')), 401, 'the old token is still accepted');
      assert.equal(await postHook(rotated.url, rotated.token, notification('TokenRotated')), 202, 'the new token is refused');
    },
    { hash: '#integrations' },
  ));
