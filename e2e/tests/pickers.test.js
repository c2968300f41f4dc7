// Pickers at scale: a namespace of 10,000 contacts and 120 groups, where every picker of contacts or
// groups (the Send form, a contact's groups, a route's and an integration's recipients, a group's
// Add members) finds what is typed by asking Herald for its first matches, and no request the page
// makes reads more than a page. The namespace is this file's own, so the other files never see it.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, chosenNames, pick, pickerMatches, rowNamed, run, screenshot, useBrowser, withConsole } from '../harness.js';
import { CONTACT_WEBHOOKS, CREATE_CONTACT, CREATE_GROUP, CREATE_NAMESPACE, SEED_CONTACTS } from '../documents.js';
// The console's own operations, which Herald always trusts, to check what the console did.
import { ALERT_DELIVERIES, ROUTES } from '../../console/static/documents.js';

useBrowser();

const namespace = `big-${run}`;
const SEEDED = 10_000;
const PER_REQUEST = 25; // SEED_CONTACTS's aliases
const GROUPS = 120;
// Sorted after every seeded name, so it is never among the first matches of an empty search.
const target = 'Zelda Quartermaine';
const seeded = (i) => `Contact ${String(i).padStart(5, '0')}`;
const team = (i) => `Team ${String(i).padStart(3, '0')}`;

/** Runs work on every item, at most n at once. */
async function eachAtOnce(items, n, work) {
  const queue = [...items];
  await Promise.all(Array.from({ length: n }, async () => {
    while (queue.length > 0) await work(queue.shift());
  }));
}

before(async () => {
  await api(CREATE_NAMESPACE, { name: namespace });
  // SQLite writes one transaction at a time: a few requests in flight keep it busy, more only queue.
  const starts = Array.from({ length: SEEDED / PER_REQUEST }, (_, k) => k * PER_REQUEST);
  await eachAtOnce(starts, 4, async (start) => {
    const inputs = {};
    for (let k = 0; k < PER_REQUEST; k++) {
      const i = start + k;
      inputs[`c${k}`] = { name: seeded(i), webhooks: [{ url: `https://oapi.dingtalk.com/robot/send?access_token=seed-${i}` }] };
    }
    await api(SEED_CONTACTS, inputs, { namespace });
  });
  await eachAtOnce(Array.from({ length: GROUPS }, (_, i) => team(i)), 4, (name) => api(CREATE_GROUP, { name }, { namespace }));
  // The target posts to the demo's fake WeCom robot (Bob's), which accepts: a send to it arrives.
  const { contacts } = await api(CONTACT_WEBHOOKS, { s: 'Bob' });
  const url = contacts.edges[0]?.node.webhooks[0]?.url;
  assert.ok(url, 'the demo contact Bob has no webhook');
  await api(CREATE_CONTACT, { input: { name: target, webhooks: [{ url }] } }, { namespace });
});

/**
 * Records every request the page makes to /query (operation name and variables) and the longest list
 * in each answer.
 */
function watchQueries(page) {
  const requests = [];
  const answers = [];
  const operation = (request) => request.postDataJSON().query.match(/^(?:query|mutation)\s+(\w+)/)?.[1] ?? 'anonymous';
  page.on('request', (r) => {
    if (new URL(r.url()).pathname !== '/query') return;
    const { query, variables } = r.postDataJSON();
    requests.push({ operation: operation(r), query, variables });
  });
  page.on('response', (r) => {
    if (new URL(r.url()).pathname !== '/query') return;
    answers.push(r.json().then((body) => ({ operation: operation(r.request()), longest: longestList(body) })));
  });
  return { requests, answers };
}

/** The length of the longest array anywhere in value. */
function longestList(value) {
  if (Array.isArray(value)) return Math.max(value.length, ...value.map(longestList));
  if (value && typeof value === 'object') return Math.max(0, ...Object.values(value).map(longestList));
  return 0;
}

/** The page sizes a request asks for: its first/last variables and those written in its text. */
function pageSizes({ query, variables }) {
  const written = [...query.matchAll(/\b(?:first|last):\s*(\d+)/g)].map((m) => Number(m[1]));
  const asked = Object.entries(variables ?? {}).filter(([k, v]) => (k === 'first' || k === 'last' || k === 'deliveries') && v != null).map(([, v]) => v);
  return [...written, ...asked];
}

test('in a namespace of 10,000 contacts every picker finds what is typed, and every request the page makes is bounded', (t) => {
  let watched;
  return withConsole(
    'pickers-at-scale',
    async (page) => {
      // ---- The Send form: the first matches when focused, the target when typed, and the send reaches it.
      const f = page.locator('#alert-form');
      const contactBox = f.getByRole('combobox', { name: 'Contacts', exact: true });
      await contactBox.focus();
      let matches = await pickerMatches(f, contactBox);
      await f.getByText('Type to narrow: 9981 more', { exact: true }).waitFor();
      assert.equal(await matches.getByRole('option').count(), 20, 'an empty search does not show the first 20 contacts');
      assert.equal(await contactBox.getAttribute('aria-expanded'), 'true');
      assert.deepEqual(await matches.getByRole('option').first().textContent(), seeded(0));
      await screenshot(page, 'pickers-send-form');

      const groupBox = f.getByRole('combobox', { name: 'Groups', exact: true });
      await groupBox.focus();
      assert.equal(await contactBox.getAttribute('aria-expanded'), 'false', 'the contacts stay open once focus left');
      matches = await pickerMatches(f, groupBox);
      await f.getByText('Type to narrow: 100 more', { exact: true }).waitFor();
      assert.equal(await matches.getByRole('option').count(), 20);
      assert.equal(await matches.getByRole('option').first().textContent(), `${team(0)} (0)`);

      await contactBox.fill('Zelda');
      matches = await pickerMatches(f, contactBox);
      assert.deepEqual(await matches.getByRole('option').allTextContents(), [target], 'the search found others');
      assert.equal(await f.locator('#alert-contacts .picker-note').textContent(), '', 'more matches are said to be left');
      await pick(f, 'Contacts', target);
      assert.equal(await contactBox.getAttribute('aria-expanded'), 'false', 'Escape does not close the matches');
      // The choice outlives another search.
      await contactBox.fill('Contact 0424');
      matches = await pickerMatches(f, contactBox);
      assert.equal(await matches.getByRole('option').count(), 10);
      assert.deepEqual(await chosenNames(f, 'Chosen contacts'), [target]);
      await contactBox.fill('');

      const title = `Pickers at scale ${run}`;
      await f.getByLabel('Title').fill(title);
      await f.getByLabel('Content').fill('found among ten thousand');
      await f.getByRole('button', { name: 'Send alert' }).click();
      const status = page.getByRole('status').getByText(new RegExp(`Alert “${title}” accepted as #\\d+`));
      await status.waitFor();
      const id = (await status.textContent()).match(/#(\d+)/)[1];
      assert.deepEqual(await chosenNames(f, 'Chosen contacts'), [], 'the form is cleared after sending, its recipients too');
      // Read back through the API: one delivery, to the target, sent to its robot.
      let deliveries;
      for (const end = Date.now() + 20_000; ; ) {
        ({ deliveries } = (await api(ALERT_DELIVERIES, { id, first: 20, after: null, status: null }, { namespace })).alert);
        if (deliveries.every((d) => d.status === 'SENT') || Date.now() > end) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.deepEqual(deliveries.map((d) => [d.platform, d.status, d.contactNames]), [['WECOM', 'SENT', [target]]]);

      // ---- A contact's groups.
      await page.getByRole('tab', { name: 'Contacts' }).click();
      await page.getByLabel('Search contacts by name').fill('Zelda');
      await page.getByRole('button', { name: `Edit ${target}` }).click();
      const contactDialog = page.getByRole('dialog', { name: `Edit contact “${target}”` });
      const contactGroups = contactDialog.getByRole('combobox', { name: 'Groups', exact: true });
      await contactGroups.focus();
      await contactDialog.getByText('Type to narrow: 100 more', { exact: true }).waitFor();
      await pick(contactDialog, 'Groups', team(117));
      await contactDialog.getByRole('button', { name: 'Save' }).click();
      await contactDialog.waitFor({ state: 'hidden' });
      await rowNamed(page, target).locator('.chip', { hasText: team(117) }).waitFor();

      // ---- A route's recipients, chosen with the keyboard too.
      await page.getByRole('tab', { name: 'Routes & Silences' }).click();
      await page.getByRole('button', { name: 'New route' }).click();
      const routeDialog = page.getByRole('dialog', { name: 'New route' });
      const routeName = `Pickers ${run}`;
      await routeDialog.getByLabel('Name', { exact: true }).fill(routeName);
      await routeDialog.getByLabel('Matcher 1 label').fill('team');
      await routeDialog.getByLabel('Matcher 1 value').fill('pickers');
      await pick(routeDialog, 'Groups', team(3));
      const routeContacts = routeDialog.getByRole('combobox', { name: 'Contacts', exact: true });
      await routeContacts.fill('Contact 0001');
      matches = await pickerMatches(routeDialog, routeContacts);
      assert.equal(await matches.getByRole('option').count(), 10);
      await routeContacts.press('ArrowDown');
      await routeContacts.press('ArrowDown');
      const active = await routeContacts.getAttribute('aria-activedescendant');
      assert.equal(await routeDialog.locator(`#${active}`).textContent(), seeded(11), 'Down does not move through the matches');
      await routeContacts.press('Enter');
      await matches.getByRole('option', { name: seeded(11), selected: true }).waitFor();
      assert.ok(await routeDialog.isVisible(), 'Enter submitted the form');
      await routeContacts.press('Escape');
      assert.equal(await routeContacts.getAttribute('aria-expanded'), 'false', 'Escape does not close the matches');
      assert.ok(await routeDialog.isVisible(), 'the first Escape closed the dialog');
      await pick(routeDialog, 'Contacts', target);
      assert.deepEqual(await chosenNames(routeDialog, 'Chosen contacts'), [seeded(11), target]);
      await routeContacts.fill('Contact 0001');
      await pickerMatches(routeDialog, routeContacts);
      await screenshot(page, 'pickers-route-dialog');
      await routeContacts.press('Escape');
      await routeDialog.getByRole('button', { name: 'Save' }).click();
      await routeDialog.waitFor({ state: 'hidden' });
      await rowNamed(page, routeName).locator('.chip', { hasText: target }).waitFor();
      const route = (await api(ROUTES, {}, { namespace })).routes.find((r) => r.name === routeName);
      assert.deepEqual(route.groups.map((g) => g.name), [team(3)]);
      assert.deepEqual(route.contacts.map((c) => c.name), [seeded(11), target]);

      // ---- An integration's recipients.
      await page.getByRole('tab', { name: 'Integrations' }).click();
      await page.getByRole('button', { name: 'New integration' }).click();
      const integrationDialog = page.getByRole('dialog', { name: 'New integration' });
      const integration = `Scale source ${run}`;
      await integrationDialog.getByLabel('Name').fill(integration);
      await pick(integrationDialog, 'Groups', team(42));
      await pick(integrationDialog, 'Contacts', target);
      await integrationDialog.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('dialog', { name: `Integration “${integration}” created` }).getByRole('button', { name: 'Done' }).click();
      for (const name of [team(42), target]) await rowNamed(page, integration).locator('.chip', { hasText: name }).waitFor();

      // ---- A group's Add members.
      await page.getByRole('tab', { name: 'Contact group' }).click();
      await page.getByRole('button', { name: `Edit ${team(0)}` }).click();
      const groupDialog = page.getByRole('dialog', { name: `Edit contact group “${team(0)}”` });
      await pick(groupDialog, 'Find contacts to add', target);
      await groupDialog.getByRole('button', { name: 'Add selected (1)' }).click();
      await groupDialog.getByRole('button', { name: `Remove ${target}`, exact: true }).waitFor();
      await groupDialog.getByRole('button', { name: 'Close' }).click();
      await groupDialog.waitFor({ state: 'hidden' });
      await rowNamed(page, team(0)).getByText('1 contact', { exact: true }).waitFor();

      // ---- Every request was bounded, and none paged through a list.
      const { requests, answers } = watched;
      const unbounded = requests.filter((r) => pageSizes(r).some((n) => n > 100));
      assert.deepEqual(unbounded, [], 'a request asked for more than 100 rows');
      const paging = requests.filter((r) => r.variables?.after != null || r.variables?.before != null);
      assert.deepEqual(paging, [], 'a request paged through a list');
      const picks = requests.filter((r) => r.operation.startsWith('Pick'));
      // About two questions per picker used: one when focused, one for what was typed.
      assert.ok(picks.length >= 10 && picks.length <= 30, `the pickers asked ${picks.length} times`);
      // The history polls while the alert is pending; everything else is a few reads and writes per step.
      const others = requests.filter((r) => r.operation !== 'Alerts' && !r.operation.startsWith('Pick'));
      assert.ok(others.length <= 40, `the page made ${others.length} other requests: ${others.map((r) => r.operation).join(', ')}`);
      t.diagnostic(`${requests.length} requests: ${picks.length} from the pickers, ${others.length} others, the rest the history's polls`);
      const longest = await Promise.all(answers);
      const big = longest.filter((a) => a.longest > 100);
      assert.deepEqual(big, [], 'an answer held more than 100 rows');
      assert.ok(longest.filter((a) => a.operation?.startsWith('Pick')).every((a) => a.longest <= 20), 'a picker got more than 20 matches');
    },
    {
      hash: '#alerts',
      setup: async (page) => {
        await page.addInitScript((name) => localStorage.setItem('herald.namespace', name), namespace);
        watched = watchQueries(page);
      },
    },
  );
});
