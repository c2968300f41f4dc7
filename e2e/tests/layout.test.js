// Every tab on a laptop and on a phone: screenshots to look at, and no sideways scrolling of the
// page itself (tables stack into cards on a phone).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshot, useBrowser, viewports, withConsole } from '../harness.js';

useBrowser();

/** Saves a screenshot and checks the page does not scroll sideways. */
async function look(page, name) {
  await screenshot(page, name);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `${name}: the page scrolls sideways by ${overflow}px`);
}

for (const [device, viewport] of Object.entries(viewports)) {
  test(`every tab fits a ${device} screen (${viewport.width}×${viewport.height})`, () =>
    withConsole(
      `${device}-tour`,
      async (page) => {
        await page.locator('#contacts-rows tr').first().waitFor();
        await look(page, `${device}-contacts`);
        await page.getByRole('button', { name: 'New contact' }).click();
        const dialog = page.getByRole('dialog', { name: 'New contact' });
        await dialog.getByLabel('Webhook').fill('https://oapi.dingtalk.com/robot/send?access_token=a, https://open.feishu.cn/open-apis/bot/v2/hook/b');
        await look(page, `${device}-contact-dialog`);
        await page.keyboard.press('Escape');

        await page.getByRole('tab', { name: 'Contact group' }).click();
        await page.locator('#groups-rows tr').first().waitFor();
        await look(page, `${device}-groups`);

        await page.getByRole('tab', { name: 'Alerts' }).click();
        await page.getByRole('combobox', { name: 'Groups', exact: true }).waitFor();
        await page.getByRole('button', { name: 'Preview' }).waitFor();
        await look(page, `${device}-alerts`);

        await page.getByRole('tab', { name: 'Integrations' }).click();
        await page.locator('#integrations-rows tr').first().waitFor();
        await look(page, `${device}-integrations`);
        await page.getByRole('button', { name: 'New integration' }).click();
        const create = page.getByRole('dialog', { name: 'New integration' });
        await create.getByLabel('Kind').selectOption('GRAFANA');
        await look(page, `${device}-integration-dialog`);
        await page.keyboard.press('Escape');

        await page.getByRole('tab', { name: 'Templates' }).click();
        await page.locator('#builtin-templates-rows tr').first().waitFor();
        await look(page, `${device}-templates`);
        await page.getByRole('button', { name: /^Copy / }).first().click();
        const editor = page.getByRole('dialog', { name: 'New template' });
        await editor.locator('#template-preview-list > li').first().waitFor();
        await look(page, `${device}-template-dialog`);
        await page.keyboard.press('Escape');
      },
      { viewport },
    ));
}
