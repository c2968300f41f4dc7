// The token prompt and role-based actions, against the authentication contract Herald is growing:
// UNAUTHENTICATED asks for a token, `me { role }` says what the holder may do. Until Herald has
// it, a route in front of /query plays that part and passes everything else to the real API.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, withConsole } from '../harness.js';

useBrowser();

const tokens = { 'viewer-token': 'VIEWER', 'sender-token': 'SENDER' };

/** Refuses requests without a known token and answers `me` for known ones; records what was sent. */
async function requireToken(page, seen) {
  await page.route('**/query', async (route) => {
    const auth = route.request().headers().authorization ?? '';
    seen.push(auth);
    const role = tokens[auth.replace(/^Bearer /, '')];
    const { query } = route.request().postDataJSON();
    if (!role) {
      return route.fulfill({ json: { errors: [{ message: 'a token is required', extensions: { code: 'UNAUTHENTICATED' } }], data: null } });
    }
    if (query.includes('__type')) return route.fulfill({ json: { data: { __type: { fields: [{ name: 'contacts' }, { name: 'me' }] } } } });
    if (query.includes('me {')) return route.fulfill({ json: { data: { me: { role } } } });
    // Herald itself runs in open mode here, where an unknown token is refused: pass the rest on bare.
    const headers = route.request().headers();
    delete headers.authorization;
    return route.continue({ headers });
  });
}

test('without a token the console asks for one, says when it is refused, and keeps it for the session', async () => {
  const seen = [];
  await withConsole(
    'token-prompt',
    async (page) => {
      const prompt = page.getByRole('dialog', { name: 'Sign in to Herald' });
      await prompt.getByLabel('Access token').fill('wrong');
      await prompt.getByRole('button', { name: 'Continue' }).click();
      await prompt.getByText('Herald did not accept that token').waitFor();
      await prompt.getByLabel('Access token').fill('viewer-token');
      await prompt.getByRole('button', { name: 'Continue' }).click();
      await prompt.waitFor({ state: 'hidden' });
      await page.locator('#contacts-rows tr').first().waitFor();
      assert.equal(await page.evaluate(() => sessionStorage.getItem('herald.token')), 'viewer-token');
      assert.ok(seen.includes('Bearer viewer-token'));
      await page.getByRole('button', { name: 'Forget token' }).waitFor();
    },
    { setup: (page) => requireToken(page, seen) },
  );
});

test('a VIEWER sees data but no action that changes anything', () =>
  withConsole(
    'viewer',
    async (page) => {
      await page.getByRole('dialog', { name: 'Sign in to Herald' }).getByLabel('Access token').fill('viewer-token');
      await page.keyboard.press('Enter');
      await page.locator('#contacts-rows tr').first().waitFor();
      await page.getByText('viewer', { exact: true }).waitFor();
      for (const name of ['New contact', 'Batch Delete', 'Edit Bob', 'Delete Bob', 'Send test to Bob']) {
        assert.equal(await page.getByRole('button', { name }).count(), 0, `${name} is offered to a VIEWER`);
      }
      await page.getByRole('tab', { name: 'Alerts' }).click();
      await page.getByRole('heading', { name: 'History' }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Send alert' }).count(), 0);
      await page.getByRole('tab', { name: 'Contact group' }).click();
      await page.getByRole('cell', { name: /demo group/ }).first().waitFor();
      assert.equal(await page.getByRole('button', { name: 'Create contact group' }).count(), 0);
    },
    { setup: (page) => requireToken(page, []) },
  ));

test('a SENDER may send alerts and tests but not manage contacts', () =>
  withConsole(
    'sender',
    async (page) => {
      await page.getByRole('dialog', { name: 'Sign in to Herald' }).getByLabel('Access token').fill('sender-token');
      await page.keyboard.press('Enter');
      await page.getByRole('button', { name: 'Send test to Bob' }).waitFor();
      for (const name of ['New contact', 'Edit Bob', 'Delete Bob']) {
        assert.equal(await page.getByRole('button', { name }).count(), 0, `${name} is offered to a SENDER`);
      }
      await page.getByRole('tab', { name: 'Alerts' }).click();
      await page.getByRole('button', { name: 'Send alert' }).waitFor();
    },
    { setup: (page) => requireToken(page, []) },
  ));

test('when Herald has no `me` field, everyone is an administrator', async () => {
  const asked = [];
  await withConsole(
    'admin-without-me',
    async (page) => {
      await page.getByRole('button', { name: 'New contact' }).waitFor();
      await page.getByRole('button', { name: 'Edit Bob' }).waitFor();
      assert.ok(!asked.some((q) => q.includes('me {')), 'the console asked for `me`, which would fail validation (HTTP 422)');
    },
    {
      setup: (page) =>
        page.route('**/query', (route) => {
          const { query } = route.request().postDataJSON();
          asked.push(query);
          if (query.includes('__type')) return route.fulfill({ json: { data: { __type: { fields: [{ name: 'contacts' }] } } } });
          return route.continue();
        }),
    },
  );
});
