// Every tab in both languages: a screenshot of each (kept in e2e/screenshots as the run's
// artifacts), an accessibility check with axe-core (no serious or critical violation), no string
// shown as its catalogue key, and the language switch, remembered by the browser.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { screenshot, useBrowser, withConsole } from '../harness.js';
import en from '../../console/static/locales/en.js';

useBrowser();

const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const tabs = ['overview', 'contacts', 'groups', 'alerts', 'routes', 'integrations', 'templates'];
const languages = { en: 'English', zh: '简体中文' };
// Text shaped like a catalogue key: one of the catalogue's first words, a dot, more words.
const prefixes = [...new Set(Object.keys(en).map((k) => k.split('.')[0]))];
const keyShape = new RegExp(`\\b(?:${prefixes.join('|')})\\.[a-zA-Z][a-zA-Z0-9.]*\\b`, 'g');

/** axe-core's serious and critical violations on the page as it is now, described for a reader. */
async function violations(page) {
  // page.evaluate runs as the debugger does: the console's script policy does not apply to it.
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => globalThis.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

for (const [lang, name] of Object.entries(languages)) {
  test(`every tab in ${name}: screenshot, no key shown as itself, no serious accessibility violation`, () =>
    withConsole(`tabs-${lang}`, async (page) => {
      for (const tab of tabs) {
        await page.locator(`#tab-${tab}`).click();
        await page.locator(`#panel-${tab}`).waitFor();
        await page.waitForLoadState('networkidle');
        assert.equal(await page.locator('html').getAttribute('lang'), lang === 'zh' ? 'zh-CN' : 'en');
        const text = await page.locator('body').innerText();
        // t() shows a key missing from the catalogues as itself.
        const keys = text.match(keyShape);
        assert.equal(keys, null, `the ${tab} tab shows catalogue keys: ${keys}`);
        await screenshot(page, `tab-${tab}-${lang}`);
        assert.deepEqual(await violations(page), [], `the ${tab} tab in ${name}`);
      }
    }, { hash: '#overview', setup: (page) => page.addInitScript((l) => localStorage.setItem('herald.language', l), lang) }));
}

test('the language switch changes every string and is remembered', () =>
  withConsole('language-switch', async (page) => {
    await page.locator('#tab-overview').getByText('Overview', { exact: true }).waitFor();
    await Promise.all([page.waitForEvent('load'), page.getByLabel('Language').selectOption('zh')]);
    await page.locator('#tab-overview').getByText('概览', { exact: true }).waitFor();
    await page.getByRole('heading', { name: '每小时投递数（按结果）' }).waitFor();
    await page.reload();
    await page.locator('#tab-overview').getByText('概览', { exact: true }).waitFor();
    await Promise.all([page.waitForEvent('load'), page.getByLabel('语言').selectOption('en')]);
    await page.locator('#tab-overview').getByText('Overview', { exact: true }).waitFor();
  }, {
    hash: '#overview',
    // The browser's profile remembers the other tests' language: start in English, once.
    setup: (page) => page.addInitScript(() => {
      if (sessionStorage.getItem('language-switch-test')) return;
      sessionStorage.setItem('language-switch-test', 'started');
      localStorage.setItem('herald.language', 'en');
    }),
  }));
