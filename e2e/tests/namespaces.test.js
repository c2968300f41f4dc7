// The namespace selector: which namespace the console runs in, remembered per browser. Herald runs
// in open mode here, where every caller is an admin of every namespace, so the selector lists all of
// them, including those other files create meanwhile; the choice lives in this file's own profile.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createContact, rowNamed, run, screenshot, useBrowser, withConsole } from '../harness.js';
import { CREATE_NAMESPACE, DELETE_NAMESPACE } from '../documents.js';

useBrowser();

const team = `team-${run}`;
const inTeam = `Only in team ${run}`;
const inDefault = `Only in default ${run}`;

before(async () => {
  await api(CREATE_NAMESPACE, { name: team });
  await createContact(inTeam, [], { namespace: team });
  await createContact(inDefault);
});

/** Waits for the contacts, then narrows them to this file's one in the namespace shown (both names hold run). */
async function searchContacts(page) {
  await page.locator('#contacts-rows tr').first().waitFor();
  await page.getByLabel('Search contacts by name').fill(run);
  await page.locator('#panel-contacts .range').getByText('1–1 of 1').waitFor();
}

/** Chooses name in the selector and waits for the console to start over in it. */
async function choose(page, name) {
  await Promise.all([page.waitForEvent('load'), page.getByLabel('Namespace').selectOption(name)]);
}

/** Records the Herald-Namespace of every request to /query from now on ('' without one). */
function watchNamespaces(page, sent) {
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/query') sent.push(r.headers()['herald-namespace'] ?? '');
  });
}

test('choosing a namespace shows its contacts only, survives a reload, and choosing default brings default back', () => {
  const sent = [];
  return withConsole(
    'namespace-switch',
    async (page) => {
      const select = page.getByLabel('Namespace');
      await searchContacts(page);
      await rowNamed(page, inDefault).waitFor();
      assert.equal(await select.inputValue(), 'default', 'a browser that never chose runs in default');
      assert.ok(await select.isEnabled(), 'several namespaces are offered');
      const names = await select.locator('option').allTextContents();
      assert.ok(names.includes('default') && names.includes(team), `the selector lists ${JSON.stringify(names)}`);
      assert.ok(sent.length > 0 && sent.every((ns) => ns === '' || ns === 'default'), `requests ran in ${sent}`);

      sent.length = 0;
      await choose(page, team);
      await searchContacts(page);
      await rowNamed(page, inTeam).waitFor();
      assert.equal(await rowNamed(page, inDefault).count(), 0, 'a contact of default is shown in the team namespace');
      assert.equal(await select.inputValue(), team);
      assert.equal(await page.evaluate(() => localStorage.getItem('herald.namespace')), team);
      assert.ok(sent.length > 0 && sent.every((ns) => ns === team), `after choosing ${team}, requests ran in ${sent}`);
      await screenshot(page, 'namespace-team');

      await page.reload();
      await searchContacts(page);
      await rowNamed(page, inTeam).waitFor();
      assert.equal(await select.inputValue(), team, 'the choice survives a reload');
      assert.equal(await rowNamed(page, inDefault).count(), 0);

      // The other tabs run in the chosen namespace too: its groups are none of default's.
      await page.getByRole('tab', { name: 'Contact group' }).click();
      await page.getByText('No contact groups yet.').waitFor();
      assert.equal(await page.getByRole('cell', { name: /demo group/ }).count(), 0, "default's groups are shown in the team namespace");

      await choose(page, 'default');
      assert.match(page.url(), /#groups$/, 'the console stays on the tab it showed');
      await page.getByRole('cell', { name: /demo group/ }).first().waitFor();
      await page.getByRole('tab', { name: 'Contacts' }).click();
      await searchContacts(page);
      await rowNamed(page, inDefault).waitFor();
      assert.equal(await rowNamed(page, inTeam).count(), 0, 'a contact of the team namespace is shown in default');
      assert.equal(await page.evaluate(() => localStorage.getItem('herald.namespace')), 'default');
    },
    { setup: (page) => watchNamespaces(page, sent) },
  );
});

test('a remembered namespace that was deleted falls back to default', async () => {
  const gone = `gone-${run}`;
  const { createNamespace } = await api(CREATE_NAMESPACE, { name: gone });
  await withConsole('namespace-deleted', async (page) => {
    const select = page.getByLabel('Namespace');
    await select.locator(`option[value="${gone}"]`).waitFor({ state: 'attached' });
    await choose(page, gone);
    await page.getByText('No contacts yet.').waitFor();
    assert.equal(await select.inputValue(), gone);

    await api(DELETE_NAMESPACE, { id: createNamespace.id });
    await page.reload();
    await searchContacts(page);
    await rowNamed(page, inDefault).waitFor();
    assert.equal(await select.inputValue(), 'default');
    assert.equal(await select.locator(`option[value="${gone}"]`).count(), 0, 'the deleted namespace is still offered');
    assert.equal(await page.evaluate(() => localStorage.getItem('herald.namespace')), 'default');
    assert.equal(await page.locator('#status.error').count(), 0, 'the fallback was reported as an error');
  });
});

test('a token that may use one namespace sees it named, with nothing to choose', () =>
  withConsole(
    'namespace-single',
    async (page) => {
      const select = page.getByLabel('Namespace');
      await page.locator('#contacts-rows tr').first().waitFor();
      assert.equal(await select.inputValue(), 'default');
      assert.ok(await select.isDisabled(), 'a single namespace is offered as a choice');
      assert.deepEqual(await select.locator('option').allTextContents(), ['default']);
    },
    {
      // What Herald answers a token bound to default: its own namespace only.
      setup: (page) => page.route('**/query', (route) => {
        if (!route.request().postDataJSON().query.includes('namespaces {')) return route.continue();
        return route.fulfill({ json: { data: { namespaces: [{ id: '1', name: 'default', description: '' }] } } });
      }),
    },
  ));
