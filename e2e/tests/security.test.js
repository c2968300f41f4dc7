// What a browser can do to a Herald in open mode (no tokens, loopback only, every caller an
// admin), and the playground with nothing but Herald reachable.
//
// DNS rebinding is reproduced as the browser sees it: Chromium resolves rebind.test to 127.0.0.1
// (--host-resolver-rules), so a script running in http://rebind.test:PORT is same-origin with
// Herald, as a page whose name was rebound to this machine would be.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { api, baseURL, newPage, playgroundURL, useBrowser, withConsole } from '../harness.js';
import { TOKEN_NAMES } from '../documents.js';

useBrowser({ args: ['--host-resolver-rules=MAP rebind.test 127.0.0.1, MAP attacker.test 127.0.0.1'] });

const port = new URL(baseURL).port;

/** What the page's own script gets when it asks Herald for the caller's role and for an admin token. */
function attack(page, endpoint) {
  return page.evaluate(async (url) => {
    const post = async (query) => {
      try {
        const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ query }) });
        return { status: res.status, body: await res.text() };
      } catch (e) {
        return { status: 0, body: String(e) };
      }
    };
    return {
      me: await post('{ me { role } }'),
      token: await post('mutation { createApiToken(name: "rebound", role: ADMIN) { token } }'),
    };
  }, endpoint);
}

async function tokenNames() {
  const { apiTokens } = await api(TOKEN_NAMES);
  return apiTokens.map((t) => t.name);
}

test('a page whose name is rebound to this machine gets nothing from open mode', async () => {
  const page = await newPage();
  try {
    const res = await page.goto(`http://rebind.test:${port}/`);
    assert.equal(res.status(), 421, 'the console is served under a foreign name');
    assert.match(await page.locator('body').innerText(), /open mode/);
    const got = await attack(page, '/query');
    assert.equal(got.me.status, 421, `me: ${JSON.stringify(got.me)}`);
    assert.match(got.me.body, /HOST_NOT_ALLOWED/);
    assert.doesNotMatch(got.me.body, /"ADMIN"/);
    assert.equal(got.token.status, 421, `createApiToken: ${JSON.stringify(got.token)}`);
    assert.doesNotMatch(got.token.body, /hrld_/);
  } finally {
    await page.close();
  }
  assert.deepEqual((await tokenNames()).filter((n) => n === 'rebound'), [], 'the rebound page created a token');
  // The names that stay this machine's own still reach the console.
  const local = await newPage();
  try {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      const res = await local.goto(`http://${host}/`);
      assert.equal(res.status(), 200, host);
    }
  } finally {
    await local.close();
  }
});

test('a page served from another origin cannot read from or write to open mode', async () => {
  const attacker = createServer((_, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>attacker</title><p>hello</p>');
  });
  await new Promise((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  const page = await newPage();
  try {
    await page.goto(`http://attacker.test:${attacker.address().port}/`);
    const got = await attack(page, `http://127.0.0.1:${port}/query`);
    // No CORS grant: the JSON POST's preflight fails, so the script reads nothing and sends nothing.
    assert.equal(got.me.status, 0, `me: ${JSON.stringify(got.me)}`);
    assert.equal(got.token.status, 0, `createApiToken: ${JSON.stringify(got.token)}`);
    // A form-style POST needs no preflight; Herald refuses anything but JSON, so it runs nothing.
    await page.evaluate((url) => fetch(url, {
      method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' },
      body: '{"query":"mutation { createApiToken(name: \\"rebound\\", role: ADMIN) { token } }"}',
    }), `http://127.0.0.1:${port}/query`);
  } finally {
    await page.close();
    attacker.close();
  }
  assert.deepEqual((await tokenNames()).filter((n) => n === 'rebound'), [], 'the other origin created a token');
});

test('the playground runs a query with every host but Herald blocked', async () => {
  const herald = new URL(playgroundURL).host;
  const blocked = [];
  await withConsole(
    'playground-offline',
    async (page) => {
      // The example query the playground opens with asks for me { name role }.
      await page.getByRole('button', { name: /Execute query/ }).click();
      await page.locator('.result-window').getByText('"ADMIN"').waitFor();
      assert.match(await page.locator('.result-window').innerText(), /"role": "ADMIN"/);
    },
    {
      base: playgroundURL,
      path: 'playground',
      setup: (page) => page.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.host === herald) return route.continue();
        blocked.push(url.href);
        return route.abort('internetdisconnected');
      }),
    },
  );
  assert.deepEqual(blocked, [], 'the playground asked for something besides Herald');
});

test('the console links to the playground while introspection is on', async () => {
  await withConsole('playground-link', async (page) => {
    await page.getByRole('link', { name: 'GraphQL playground' }).click();
    await page.waitForURL(/\/playground$/);
    await page.getByRole('button', { name: /Execute query/ }).waitFor();
  }, { base: playgroundURL });
});

test('in strict trusted-documents mode the console works and an ad-hoc query from its page is refused', async () => {
  await withConsole('strict-documents', async (page) => {
    await page.locator('#contacts-rows tr').first().waitFor();
    const got = await page.evaluate(async () => {
      const res = await fetch('/query', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ query: '{ contacts(first: 100) { edges { node { webhooks { url } } } } }' }),
      });
      return res.json();
    });
    assert.equal(got.errors?.[0]?.extensions?.code, 'PERSISTED_QUERY_NOT_FOUND', JSON.stringify(got));
    assert.equal(got.data ?? null, null);
  });
});
