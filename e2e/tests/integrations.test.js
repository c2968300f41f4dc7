// Integrations: an Alertmanager created in the console, its token shown once, a real notification
// posted to its hook URL becoming an alert with its labels and source, role-based hiding, and
// token rotation refusing the old token. The recipient is a contact of this file's own group that
// posts to the demo's fake WeCom robot (Bob's), so the alert's delivery succeeds.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, chosenNames, createContact, pick, rowNamed, run, screenshot, useBrowser, withConsole } from '../harness.js';
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

/**
 * Reads the shown-once dialog's token, URL and snippet (checked by check), saves a screenshot as
 * name, and closes it.
 */
async function readShownOnce(page, dialog, name, check = checkAlertmanagerSnippet) {
  await dialog.getByText('This token is shown once').waitFor();
  const token = await dialog.getByRole('textbox', { name: 'Token', exact: true }).inputValue();
  const url = await dialog.getByRole('textbox', { name: 'Hook URL', exact: true }).inputValue();
  assert.match(token, /^hrldh_/);
  assert.match(url, /^https?:\/\/.+\/hooks\/[^/]+$/);
  check(await dialog.locator('#integration-snippet').textContent(), { url, token });
  for (const what of ['token', 'hook URL', 'configuration']) await dialog.getByRole('button', { name: `Copy the ${what}` }).waitFor();
  await screenshot(page, name);
  await dialog.getByRole('button', { name: 'Done' }).click();
  await dialog.waitFor({ state: 'hidden' });
  return { token, url };
}

function checkAlertmanagerSnippet(snippet, { url, token }) {
  assert.equal(
    snippet,
    [
      'receivers:',
      '  - name: herald',
      '    webhook_configs:',
      `      - url: '${url}'`,
      '        send_resolved: true',
      '        http_config:',
      '          authorization:',
      '            type: Bearer',
      `            credentials: '${token}'`,
    ].join('\n'),
  );
}

/** Opens the New integration dialog, fills it, saves, and returns the shown-once dialog. */
async function createInTheConsole(page, { name, kind, secret }) {
  await page.getByRole('button', { name: 'New integration' }).click();
  const dialog = page.getByRole('dialog', { name: 'New integration' });
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByLabel('Kind').selectOption(kind);
  if (secret) await dialog.getByLabel(/Signing secret/).fill(secret);
  await pick(dialog, 'Contacts', member);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'hidden' });
  return page.getByRole('dialog', { name: `Integration “${name}” created` });
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
      await pick(dialog, 'Groups', group);
      await dialog.getByRole('button', { name: 'Save' }).click();

      const shown = page.getByRole('dialog', { name: `Integration “${integration}” created` });
      Object.assign(created, await readShownOnce(page, shown, 'integration-token'));

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
      for (const name of ['New integration', `Edit ${integration}`, `Rotate token: ${integration}`, `Delete ${integration}`]) {
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
      await page.getByRole('button', { name: `Rotate token: ${integration}` }).click();
      const confirm = page.getByRole('dialog', { name: 'Rotate the token?' });
      await confirm.getByText('The current token is refused').waitFor();
      await confirm.getByRole('button', { name: 'Rotate token' }).click();

      const shown = page.getByRole('dialog', { name: `New token for “${integration}”` });
      const rotated = await readShownOnce(page, shown, 'integration-new-token');
      assert.notEqual(rotated.token, created.token, 'the token did not change');
      assert.equal(rotated.url, created.url, 'the hook URL changed with the token');

      assert.equal(await postHook(created.url, created.token, notification('TokenRotated')), 401, 'the old token is still accepted');
      assert.equal(await postHook(rotated.url, rotated.token, notification('TokenRotated')), 202, 'the new token is refused');
    },
    { hash: '#integrations' },
  ));

test('a Grafana integration’s instructions name the signature headers, and editing can remove its secret', () =>
  withConsole(
    'integration-grafana',
    async (page) => {
      const name = `Grafana ${run}`;
      const shown = await createInTheConsole(page, { name, kind: 'GRAFANA', secret: 'hmac-secret' });
      await readShownOnce(page, shown, 'integration-grafana-token', (snippet, { url, token }) => {
        assert.equal(
          snippet,
          [
            'Integration: Webhook',
            `URL: ${url}`,
            'HTTP method: POST',
            'Authorization header - scheme: Bearer',
            `Authorization header - credentials: ${token}`,
            'HMAC signature - secret: the signing secret given to Herald',
            'HMAC signature - header: X-Grafana-Alerting-Signature',
            'HMAC signature - timestamp header: X-Grafana-Alerting-Timestamp',
          ].join('\n'),
        );
        assert.ok(!snippet.includes('hmac-secret'), 'the secret is shown');
      });
      const row = rowNamed(page, name);
      await row.getByText('signed', { exact: true }).waitFor();

      await page.getByRole('button', { name: `Edit ${name}` }).click();
      const dialog = page.getByRole('dialog', { name: `Edit integration “${name}”` });
      assert.deepEqual(await chosenNames(dialog, 'Chosen contacts'), [member], 'the recipient is not chosen');
      assert.ok(await dialog.getByLabel('Kind').isDisabled(), 'the kind may be changed');
      // An unknown time zone is refused next to its field, and the dialog keeps what was typed.
      await dialog.getByLabel('Time zone').fill('Mars/Olympus');
      await dialog.getByRole('checkbox', { name: 'Remove the stored secret' }).check();
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.locator('[data-field="input.timeZone"] > .field-error').waitFor();
      assert.equal(await dialog.getByLabel('Time zone').getAttribute('aria-invalid'), 'true');
      await dialog.getByLabel('Time zone').fill('Asia/Shanghai');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await page.getByRole('status').getByText(`Integration “${name}” updated.`).waitFor();
      await row.getByText(/Times in Asia\/Shanghai/).waitFor();
      assert.equal(await row.getByText('signed', { exact: true }).count(), 0, 'the secret was not removed');
    },
    { hash: '#integrations' },
  ));

test('a generic integration shows a curl line that its hook accepts, and deleting it refuses its token', () =>
  withConsole(
    'integration-generic',
    async (page) => {
      const name = `Cron ${run}`;
      const shown = await createInTheConsole(page, { name, kind: 'GENERIC' });
      const body = '{"title":"Nightly backup failed","content":"exit code 2","severity":"critical","labels":{"job":"nightly"}}';
      const { url, token } = await readShownOnce(page, shown, 'integration-generic-token', (snippet, { url, token }) => {
        assert.equal(
          snippet,
          `curl -X POST '${url}' -H 'Authorization: Bearer ${token}' -H 'Content-Type: application/json' -d '${body}'`,
        );
      });
      const res = await fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body });
      assert.equal(res.status, 202, await res.text());

      await page.getByRole('button', { name: `Delete ${name}` }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete integration?' });
      await confirm.getByRole('button', { name: 'Delete integration' }).click();
      await page.getByRole('status').getByText(`Integration “${name}” deleted.`).waitFor();
      assert.equal(await rowNamed(page, name).count(), 0);
      const again = await fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body });
      assert.equal(again.status, 401);

      await page.getByRole('tab', { name: 'Alerts' }).click();
      const alert = page.locator('#history-rows tr').filter({ hasText: 'Nightly backup failed' });
      await alert.locator('.label-chip', { hasText: 'job=nightly' }).waitFor();
    },
    { hash: '#integrations' },
  ));
