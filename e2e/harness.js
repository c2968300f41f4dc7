// Shared set-up for the console's browser tests: Debian's Chromium through playwright-core, a page
// that fails its test on any console or page error, screenshots, and a GraphQL client for fixtures.

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { CREATE_CONTACT } from './documents.js';

export const baseURL = process.env.HERALD_URL;
// A second Herald that runs free-form operations, for the playground (HERALD_URL runs only
// trusted documents).
export const playgroundURL = process.env.HERALD_PLAYGROUND_URL ?? baseURL;
if (!baseURL) {
  throw new Error('HERALD_URL is not set: start `go run . --demo` and pass its address, or run `go test ./console/`');
}

export const viewports = {
  laptop: { width: 1366, height: 768 },
  phone: { width: 390, height: 844 },
};

const screenshots = join(dirname(fileURLToPath(import.meta.url)), 'screenshots');

// A name suffix unique to this test file's run, so files running in parallel against one Herald,
// or a second run against the same database, never collide.
export const run = Math.random().toString(36).slice(2, 7);

let context;
let profile;

/**
 * Launches one browser per test file, with a fresh profile that nothing outlives; args are extra
 * Chromium switches.
 */
export function useBrowser({ args = [] } = {}) {
  before(async () => {
    profile = await mkdtemp(join(tmpdir(), 'herald-e2e-'));
    await mkdir(screenshots, { recursive: true });
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        ...args,
      ],
      viewport: viewports.laptop,
    });
  });
  after(async () => {
    await context?.close();
    await rm(profile, { recursive: true, force: true });
  });
}

/**
 * Runs fn with a fresh page on the console, then saves a screenshot named after the scenario and
 * fails if the browser reported any console error (failed requests included) or uncaught error.
 * setup(page) runs before the console loads (to install request routes); path is the page to open
 * instead of the console's ("playground?query=..."), on base (HERALD_URL unless given).
 */
export async function withConsole(name, fn, { viewport = viewports.laptop, hash = '#contacts', path = '', base = baseURL, setup } = {}) {
  const page = await newPage();
  await page.setViewportSize(viewport);
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.stack ?? e.message}`));
  try {
    await setup?.(page);
    await page.goto(`${base}/${path}${hash}`);
    await fn(page);
  } finally {
    await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true }).catch(() => {}); // a crashed page has nothing to show
    await page.close();
  }
  assert.deepEqual(problems, [], 'the browser reported errors');
}

/** A fresh page in this file's browser, for scenarios that watch errors themselves. */
export function newPage() {
  return context.newPage();
}

/** Saves what the page shows now, beside the screenshot each scenario saves when it ends. */
export function screenshot(page, name) {
  return page.screenshot({ path: join(screenshots, `${name}.png`) });
}

/**
 * Calls Herald's API directly, for fixtures and for checking what the console did; namespace is
 * the Herald-Namespace to run in (default without it).
 */
export async function api(query, variables = {}, { namespace } = {}) {
  const headers = { 'Content-Type': 'application/json' };
  if (namespace) headers['Herald-Namespace'] = namespace;
  const res = await fetch(`${baseURL}/query`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/**
 * Creates a contact through the API with an official-host URL that validates but is never sent to,
 * in namespace (default without it).
 */
export async function createContact(name, groupIds = [], { namespace } = {}) {
  const data = await api(
    CREATE_CONTACT,
    { input: { name, groupIds, webhooks: [{ url: `https://oapi.dingtalk.com/robot/send?access_token=${encodeURIComponent(name)}` }] } },
    { namespace },
  );
  return data.createContact;
}

/** The row of a table whose header cell is exactly name. */
export function rowNamed(page, name) {
  return page.locator('tbody tr').filter({ has: page.locator('th .name', { hasText: new RegExp(`^${escapeRegExp(name)}$`) }) });
}

export function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Chooses name in the search picker (picker.js) whose box is labelled label, within scope: types
 * it, waits for the matches of what was typed, clicks the one named name (a group's is followed by
 * its count, a group dialog's by "(member)"), waits until it shows as chosen, and closes the
 * matches with Escape, as they would otherwise lie over the fields below.
 */
export async function pick(scope, label, name) {
  const box = scope.getByRole('combobox', { name: label, exact: true });
  await box.fill(name);
  const matches = await pickerMatches(scope, box);
  const option = { name: new RegExp(`^${escapeRegExp(name)}( \\(.*\\))?$`) };
  await matches.getByRole('option', option).click();
  await matches.getByRole('option', { ...option, selected: true }).waitFor();
  await box.press('Escape');
}

/** The list of matches box (a search picker's combobox) controls, once it answers what box holds. */
export async function pickerMatches(scope, box) {
  const id = await box.getAttribute('aria-controls');
  const matches = scope.locator(`#${id}`);
  await scope.locator(`#${id}:not([aria-busy])`).waitFor({ state: 'attached' });
  return matches;
}

/** The names a search picker shows as chosen, its chips listed as chosenLabel ("Chosen groups"). */
export function chosenNames(scope, chosenLabel) {
  return scope.getByRole('list', { name: chosenLabel, includeHidden: true }).locator('li > span').allTextContents();
}
