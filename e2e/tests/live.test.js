// Delivery health and acting on failures, in a namespace of this file's own (the overview counts a
// whole namespace, and the other files send alerts meanwhile): the overview's figures equal a
// count made through the API, a delivery changing state reaches the history over the subscription
// without a reload (and by polling when the socket is refused), and a failed delivery retried from
// the console becomes Sent. The refusing robot is the Go runner's fake DingTalk robot whose keyword
// security refuses Herald's messages until the suite fixes it (console/e2e_test.go).

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, run, useBrowser, withConsole } from '../harness.js';
import { CREATE_CONTACT, CREATE_NAMESPACE, LIVE_ALERT, LIVE_COUNT, SEND_ALERT } from '../documents.js';
// The console's own operation, which Herald always trusts.
import { CREATE_INTEGRATION } from '../../console/static/documents.js';

useBrowser();

const namespace = `live-${run}`;
const robotURL = process.env.HERALD_E2E_REFUSING_ROBOT;
const control = process.env.HERALD_E2E_ROBOT_CONTROL;

const inNamespace = (page) => page.addInitScript((ns) => localStorage.setItem('herald.namespace', ns), namespace);

async function robot(action) {
  const res = await fetch(`${control}/${action}`, { method: 'POST' });
  assert.equal(res.status, 204, `robot control ${action}`);
}

async function send(title) {
  return (await api(SEND_ALERT, { input: { title, content: 'disk full', contactNames: ['refused-robot'] } }, { namespace })).sendAlert;
}

async function waitStatus(id, status) {
  for (const deadline = Date.now() + 20_000; ; ) {
    const a = (await api(LIVE_ALERT, { id }, { namespace })).alert;
    if (a.status === status) return a;
    if (Date.now() > deadline) assert.fail(`alert ${id} is ${a.status}, not ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  assert.ok(robotURL && control, 'HERALD_E2E_REFUSING_ROBOT and HERALD_E2E_ROBOT_CONTROL come from console/e2e_test.go');
  await api(CREATE_NAMESPACE, { name: namespace });
  await api(CREATE_CONTACT, { input: { name: 'refused-robot', webhooks: [{ url: robotURL }] } }, { namespace });
  await robot('break');
});

test('the overview counts what the API counts', async () => {
  const sent = [];
  for (let i = 0; i < 3; i++) sent.push((await send(`overview ${i} ${run}`)).id);
  for (const id of sent) await waitStatus(id, 'FAILED');
  const to = new Date(Date.now() + 60_000).toISOString();
  const from = new Date(Date.now() - 24 * 3600_000).toISOString();
  const listed = (await api(LIVE_COUNT, { from, to }, { namespace })).alerts;
  const failed = listed.edges.reduce((n, e) => n + e.node.deliveryCounts.failed, 0);
  const deliveries = listed.edges.reduce((n, e) => n + e.node.deliveryCounts.total, 0);

  await withConsole('overview-counts', async (page) => {
    const card = (name) => page.locator(`[data-stat="${name}"] .stat-value`);
    await card('alerts').getByText(String(listed.totalCount), { exact: true }).waitFor();
    assert.equal(await card('deliveries').textContent(), String(deliveries));
    assert.equal(await card('failed').textContent(), String(failed));
    assert.equal(await card('sent').textContent(), '0');
    const row = page.locator('#overview-robots tr');
    await row.getByText(`${failed} of ${deliveries}`).waitFor();
    await row.getByText('refused-robot').waitFor();
    // The chart says the same in its table.
    await page.getByText('Show as a table').click();
    const cells = await page.locator('#overview-chart-table tbody tr td:nth-child(2)').allTextContents();
    assert.equal(cells.reduce((n, c) => n + Number(c), 0), deliveries);
  }, { hash: '#overview', setup: inNamespace });
});

test('a delivery changing state reaches the history over the subscription, and a retry from the console is sent', async () => {
  await robot('break');
  const frames = [];
  await withConsole('alerts-live-retry', async (page) => {
    await page.locator('#history-live').getByText('Live').waitFor();
    await page.evaluate(() => { window.notReloaded = true; });

    const title = `live ${run}`;
    const alert = await send(title);
    const row = page.locator(`#history-rows tr[data-alert="${alert.id}"]`);
    await row.locator('.status-chip').first().getByText('Failed').waitFor();
    // The event may come a poll after the row changed (an event for another alert reloaded it).
    for (const deadline = Date.now() + 10_000; !frames.some((f) => f.includes('"alertChanged"') && f.includes(`"id":"${alert.id}"`)); ) {
      if (Date.now() > deadline) assert.fail(`no alertChanged for alert ${alert.id} came over the socket: ${frames.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await page.evaluate(() => window.notReloaded), true);

    // The robot's keyword is fixed; the person resends to the failed robots.
    await robot('fix');
    await row.getByRole('button', { name: `Resend to failed robots: ${title}` }).click();
    await row.locator('.status-chip').first().getByText('Delivered').waitFor();
    await row.getByText(/retried/).waitFor();
    const a = (await api(LIVE_ALERT, { id: alert.id }, { namespace })).alert;
    assert.equal(a.deliveries[0].status, 'SENT');
    assert.equal(a.deliveries[0].attempts.length, 2);
    assert.ok(a.deliveries[0].retriedAt);
  }, {
    hash: '#alerts',
    setup: async (page) => {
      await inNamespace(page);
      page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(String(f.payload))));
    },
  });
});

test('without a socket the history polls', async () => {
  await robot('break');
  await withConsole('alerts-polling', async (page) => {
    const title = `polled ${run}`;
    const alert = await send(title);
    const row = page.locator(`#history-rows tr[data-alert="${alert.id}"]`);
    await row.locator('.status-chip').first().getByText('Failed').waitFor();
    assert.notEqual(await page.locator('#history-live').textContent(), 'Live');
  }, {
    hash: '#alerts',
    setup: async (page) => {
      await inNamespace(page);
      // As a proxy that refuses WebSockets would.
      await page.routeWebSocket(/\/query$/, (ws) => ws.close({ code: 1008, reason: 'refused' }));
    },
  });
});

test('the history filters by title, severity and labels', async () => {
  const tag = `f${run}`;
  await api(SEND_ALERT, { input: { title: `filtered ${tag} one`, content: 'c', contactNames: ['refused-robot'], severity: 'CRITICAL', labels: [{ name: 'team', value: tag }] } }, { namespace });
  await api(SEND_ALERT, { input: { title: `filtered ${tag} two`, content: 'c', contactNames: ['refused-robot'], severity: 'INFO' } }, { namespace });
  await withConsole('alerts-filtered', async (page) => {
    // The history shows exactly these titles once the filters' load has answered.
    const titlesBecome = async (want) => {
      for (const deadline = Date.now() + 10_000; ; ) {
        const got = await page.locator('#history-rows tr th .name').allTextContents();
        if (JSON.stringify(got) === JSON.stringify(want)) return;
        if (Date.now() > deadline) assert.deepEqual(got, want);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await page.locator('#history-rows tr').first().waitFor();
    await page.getByLabel('Title contains').fill(tag.toUpperCase());
    await titlesBecome([`filtered ${tag} two`, `filtered ${tag} one`]);
    await page.locator('#history-severity').selectOption('CRITICAL');
    await titlesBecome([`filtered ${tag} one`]);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.locator('#history-labels').fill(`team=${tag}`);
    await page.locator('#history-labels').press('Tab');
    await titlesBecome([`filtered ${tag} one`]);
  }, { hash: '#alerts', setup: inNamespace });
});

test('an integration’s sample is sent from the console and delivered', async () => {
  await robot('fix');
  const contact = (await api(CREATE_CONTACT, { input: { name: 'sample-robot', webhooks: [{ url: robotURL }] } }, { namespace })).createContact;
  const name = `sample-${run}`;
  await api(CREATE_INTEGRATION, { input: { name, kind: 'ALERTMANAGER', contactIds: [contact.id] } }, { namespace });
  await withConsole('integration-sample', async (page) => {
    await page.getByRole('button', { name: `Send a sample: ${name}` }).click();
    const said = await page.locator('#status').getByText(/sent its sample as alert #\d+/).textContent();
    const id = said.match(/#(\d+)/)[1];
    const a = await waitStatus(id, 'DELIVERED');
    assert.equal(a.deliveries[0].status, 'SENT');
  }, { hash: '#integrations', setup: inNamespace });
});
