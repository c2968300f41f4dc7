// Message templates: written in the editor with its live preview of every platform's message (a
// syntax error shown at its line and column under the field, the last good preview kept and marked
// out of date), saved, chosen for an integration, refused deletion while used; the built-in ones
// read-only and copied; an alert whose template fails; and a contact's Lark open_id.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, chosenNames, createContact, pick, rowNamed, run, screenshot, useBrowser, withConsole } from '../harness.js';
import { BUILTIN_TEMPLATES, CONTACT_USER_IDS, CREATE_TEMPLATE, SEND_ALERT } from '../documents.js';

useBrowser();

const template = `Disk report ${run}`;
const recipient = `Tess ${run}`;
const integration = `Templated ${run}`;
const PLATFORMS = ['DINGTALK', 'WECOM', 'LARK'];

before(async () => {
  await createContact(recipient);
});

/** The preview's message for platform. */
function previewOf(dialog, platform) {
  return dialog.locator(`#template-preview-list > li[data-platform="${platform}"]`);
}

/** Waits until every platform's previewed body holds text. */
async function previewShows(dialog, text) {
  for (const platform of PLATFORMS) await previewOf(dialog, platform).locator('.chat', { hasText: text }).waitFor();
}

test('a template previews live on every platform as it is typed, shows a syntax error at its line and column, and is saved', () =>
  withConsole(
    'template-created',
    async (page) => {
      await page.getByRole('button', { name: 'New template' }).click();
      const dialog = page.getByRole('dialog', { name: 'New template' });
      await dialog.getByLabel('Name').fill(template);
      await dialog.getByLabel('Format').selectOption('MARKDOWN');
      await dialog.getByLabel('Title').fill('{{ .Status | toUpper }}: {{ .CommonLabels.alertname }}');
      const body = dialog.getByLabel('Body');

      // The sample is an Alertmanager notification that is firing.
      await body.pressSequentially(`Report ${run} {{ .Status }}`);
      await previewShows(dialog, `Report ${run} firing`);
      await body.pressSequentially(' on {{ len .Alerts }} alerts');
      await previewShows(dialog, `Report ${run} firing on 2 alerts`);
      await previewOf(dialog, 'LARK').locator('.chat', { hasText: 'FIRING: DiskFull' }).waitFor();
      await screenshot(page, 'template-preview');

      // An unclosed action on the second line: the error names its place, under the body.
      await body.press('End');
      await body.press('Enter');
      await body.pressSequentially('{{ .Status }');
      const error = dialog.locator('[data-field="input.body"] > .field-error');
      await error.getByText(/line 2, column \d+/).waitFor();
      assert.equal(await body.getAttribute('aria-invalid'), 'true', 'the body is not marked invalid');
      // The last good preview stays, marked out of date.
      await dialog.getByText('Out of date').waitFor();
      assert.match(await dialog.locator('.preview-pane').getAttribute('class'), /\bstale\b/);
      assert.equal(await dialog.locator('#template-preview-list > li').count(), 3, 'the last good preview is gone');
      await previewShows(dialog, `Report ${run} firing on 2 alerts`);
      await screenshot(page, 'template-syntax-error');

      // Mended, the preview is current again.
      await body.pressSequentially('} mended');
      await previewShows(dialog, 'firing mended');
      await dialog.getByText('Out of date').waitFor({ state: 'hidden' });
      assert.equal(await error.isVisible(), false, 'the syntax error is still shown');

      // Another sample, and then a payload pasted in its place.
      await dialog.getByLabel('Sample').selectOption('GENERIC');
      await previewShows(dialog, `Report ${run} firing on 1 alerts`);
      await dialog.getByText('Paste a payload').click();
      await dialog.getByLabel('Payload').fill(JSON.stringify({ title: `Pasted ${run}`, status: 'resolved' }));
      await previewShows(dialog, `Report ${run} resolved on 1 alerts`);
      await dialog.getByLabel('Payload').fill('{not json');
      await dialog.locator('[data-field="input.payload"] > .field-error', { hasText: 'JSON' }).waitFor();
      await dialog.getByText('Out of date').waitFor();
      await dialog.getByLabel('Payload').fill('');
      await previewShows(dialog, `Report ${run} firing on 1 alerts`);

      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await page.getByRole('status').getByText(`Template “${template}” created.`).waitFor();
      const row = rowNamed(page, template);
      await row.getByText('Markdown', { exact: true }).waitFor();
      await row.locator('time').waitFor();

      // Opened again, it is what was saved.
      await page.getByRole('button', { name: `Edit ${template}` }).click();
      const edit = page.getByRole('dialog', { name: `Edit template “${template}”` });
      assert.equal(await edit.getByLabel('Body').inputValue(), `Report ${run} {{ .Status }} on {{ len .Alerts }} alerts\n{{ .Status }} mended`);
      await previewShows(edit, `Report ${run} firing on 2 alerts`);
      await page.keyboard.press('Escape');
      await edit.waitFor({ state: 'hidden' });
    },
    { hash: '#templates' },
  ));

test('a newer preview is not replaced by an older answer that arrives after it', () => {
  const slow = `slow-${run}`;
  const isSlow = (request) => request.url().endsWith('/query') && request.postDataJSON()?.variables?.input?.body === slow;
  return withConsole(
    'template-overtaken',
    async (page) => {
      await page.getByRole('button', { name: 'New template' }).click();
      const dialog = page.getByRole('dialog', { name: 'New template' });
      const body = dialog.getByLabel('Body');
      const slowAsked = page.waitForRequest(isSlow);
      const slowAnswered = page.waitForResponse((r) => isSlow(r.request()));
      await body.fill(slow);
      await slowAsked;
      await body.pressSequentially('-fast');
      await previewShows(dialog, `${slow}-fast`);
      await slowAnswered; // held back by the route below, it arrives after the newer one
      await page.waitForTimeout(300);
      await previewShows(dialog, `${slow}-fast`);
      await page.keyboard.press('Escape');
    },
    {
      hash: '#templates',
      setup: (page) =>
        page.route('**/query', async (route) => {
          if (isSlow(route.request())) await new Promise((resolve) => setTimeout(resolve, 1500));
          return route.continue();
        }),
    },
  );
});

test('the built-in templates are read-only, and Copy starts a new template from one', () =>
  withConsole(
    'template-copied',
    async (page) => {
      const { builtinMessageTemplates: builtins } = await api(BUILTIN_TEMPLATES);
      const alertmanager = builtins.find((t) => t.id === 'builtin:alertmanager');
      assert.ok(alertmanager, 'no built-in Alertmanager template');
      const row = rowNamed(page, alertmanager.name);
      await row.getByText('read-only', { exact: true }).waitFor();
      for (const action of ['Edit', 'Delete']) {
        assert.equal(await page.getByRole('button', { name: `${action} ${alertmanager.name}` }).count(), 0, `${action} is offered for a built-in`);
      }

      await page.getByRole('button', { name: `Copy ${alertmanager.name}` }).click();
      const dialog = page.getByRole('dialog', { name: 'New template' });
      assert.equal(await dialog.getByLabel('Body').inputValue(), alertmanager.body);
      assert.equal(await dialog.getByLabel('Title').inputValue(), alertmanager.title);
      assert.equal(await dialog.getByLabel('Format').inputValue(), alertmanager.format);
      assert.equal(await dialog.getByLabel('Sample').inputValue(), 'ALERTMANAGER');
      assert.match(await dialog.getByLabel('Name').inputValue(), /^Copy of /);
      // A card on Lark, with the sample's alert in it.
      await previewOf(dialog, 'LARK').locator('pre.body', { hasText: '"msg_type": "interactive"' }).waitFor({ state: 'attached' });
      await previewShows(dialog, 'DiskFull');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });

      await page.getByRole('button', { name: `View ${alertmanager.name}` }).click();
      const view = page.getByRole('dialog', { name: `Template “${alertmanager.name}”` });
      await view.getByText('Built-in templates cannot be changed').waitFor();
      assert.equal(await view.getByLabel('Body').getAttribute('readonly'), '', 'the built-in body is editable');
      assert.equal(await view.getByRole('button', { name: 'Save' }).count(), 0, 'a built-in can be saved');
      await previewShows(view, 'DiskFull');
      await page.keyboard.press('Escape');
    },
    { hash: '#templates' },
  ));

test('an integration uses the saved template, and the template cannot be deleted while it does', () =>
  withConsole(
    'template-in-use',
    async (page) => {
      await rowNamed(page, template).waitFor(); // the first test saved it

      await page.getByRole('tab', { name: 'Integrations' }).click();
      await page.getByRole('button', { name: 'New integration' }).click();
      const dialog = page.getByRole('dialog', { name: 'New integration' });
      await dialog.getByLabel('Name').fill(integration);
      await pick(dialog, 'Contacts', recipient);
      const select = dialog.getByLabel('Message template');
      assert.match(await select.evaluate((s) => s.selectedOptions[0].text), /built-in/, 'the kind’s built-in is not the default');
      await select.locator('option', { hasText: template }).waitFor({ state: 'attached' });
      await select.selectOption({ label: template });
      await dialog.getByRole('button', { name: 'Save' }).click();
      const shown = page.getByRole('dialog', { name: `Integration “${integration}” created` });
      await shown.getByRole('button', { name: 'Done' }).click();
      await rowNamed(page, integration).getByText(`Template: ${template}`, { exact: true }).waitFor();

      await page.reload();
      await rowNamed(page, integration).getByText(`Template: ${template}`, { exact: true }).waitFor();
      await page.getByRole('button', { name: `Edit ${integration}` }).click();
      const edit = page.getByRole('dialog', { name: `Edit integration “${integration}”` });
      assert.deepEqual(await chosenNames(edit, 'Chosen contacts'), [recipient]);
      assert.equal(await edit.getByLabel('Message template').evaluate((s) => s.selectedOptions[0].text), template);
      await page.keyboard.press('Escape');

      await page.getByRole('tab', { name: 'Templates' }).click();
      await page.getByRole('button', { name: `Delete ${template}` }).click();
      await page.getByRole('dialog', { name: 'Delete template?' }).getByRole('button', { name: 'Delete template' }).click();
      // Herald's CONFLICT names the integration that uses it.
      await page.getByRole('status').getByText(new RegExp(`“${template}” was not deleted: .*${integration}`)).waitFor();
      await screenshot(page, 'template-delete-refused');
      await page.reload();
      await rowNamed(page, template).waitFor();
    },
    { hash: '#templates' },
  ));

test('an alert whose template fails shows why, its links, and the note of each attempt', () =>
  withConsole(
    'template-failed-alert',
    async (page) => {
      const title = `Templated alert ${run}`;
      const { createMessageTemplate: failing } = await api(CREATE_TEMPLATE, {
        input: { name: `Failing ${run}`, title: '', body: 'Disk {{ .Nope.Deeper }}', format: 'MARKDOWN' },
      });
      await api(SEND_ALERT, {
        input: {
          title, content: 'disk at 95%', groupNames: ['Everyone'], templateId: failing.id,
          links: [{ text: 'Runbook', url: `https://runbooks.example/disk-${run}` }],
        },
      });
      await page.getByRole('tab', { name: 'Alerts' }).click();
      const row = page.locator('#history-rows tr').filter({ hasText: title });
      await row.locator('.template-error', { hasText: 'Nope' }).waitFor();
      assert.equal(await row.getByRole('link', { name: 'Runbook' }).getAttribute('href'), `https://runbooks.example/disk-${run}`);
      await row.getByText('Delivered', { exact: true }).waitFor({ timeout: 20_000 });
      assert.equal(await row.locator('.delivery').count(), 3);
      const notes = await row.locator('.delivery-note').allTextContents();
      assert.equal(notes.length, 3, `not every delivery shows its attempt’s note: ${notes}`);
      for (const note of notes) assert.match(note, /^Attempt 1: .*Failing .*failed/);
    },
  ));

test('a contact’s Lark open_id is saved, shown after a reload, and cleared when emptied', () =>
  withConsole('contact-lark-id', async (page) => {
    const openId = `ou_${run}`;
    const find = async () => {
      await page.getByLabel('Search contacts by name').fill(recipient);
      await rowNamed(page, recipient).waitFor();
      await page.locator('#panel-contacts .range').getByText('1–1 of 1').waitFor();
    };
    await find();
    await page.getByRole('button', { name: `Edit ${recipient}` }).click();
    const dialog = page.getByRole('dialog', { name: `Edit contact “${recipient}”` });
    await dialog.getByLabel('Lark open_id').fill(openId);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });

    await page.reload();
    await find();
    await rowNamed(page, recipient).getByText(`Lark open_id: ${openId}`, { exact: true }).waitFor();
    const saved = (await api(CONTACT_USER_IDS, { s: recipient })).contacts.edges[0].node;
    assert.deepEqual(saved, { dingtalkUserId: null, wecomUserId: null, larkUserId: openId });

    await page.getByRole('button', { name: `Edit ${recipient}` }).click();
    assert.equal(await dialog.getByLabel('Lark open_id').inputValue(), openId);
    // A user id is checked by Herald, and the refusal is shown at its field.
    await dialog.getByLabel('WeCom user id').fill('not an id!');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.locator('[data-field="input.wecomUserId"] > .field-error').waitFor();
    await dialog.getByLabel('WeCom user id').fill('');
    await dialog.getByLabel('Lark open_id').fill('');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('status').getByText(`Contact “${recipient}” updated.`).waitFor();
    assert.equal(await rowNamed(page, recipient).getByText(/Lark open_id/).count(), 0, 'the cleared open_id is still shown');
    assert.equal((await api(CONTACT_USER_IDS, { s: recipient })).contacts.edges[0].node.larkUserId, null);
  }));

test('a VIEWER may read and preview templates but not create, edit, copy or delete them', () =>
  withConsole(
    'templates-viewer',
    async (page) => {
      await page.getByRole('dialog', { name: 'Sign in to Herald' }).getByLabel('Access token').fill('viewer-token');
      await page.keyboard.press('Enter');
      await rowNamed(page, template).waitFor();
      await page.getByText('viewer', { exact: true }).waitFor();
      for (const name of ['New template', `Edit ${template}`, `Delete ${template}`, 'Copy Alertmanager (built-in)']) {
        assert.equal(await page.getByRole('button', { name }).count(), 0, `${name} is offered to a VIEWER`);
      }
      await page.getByRole('button', { name: `View ${template}` }).click();
      const view = page.getByRole('dialog', { name: `Template “${template}”` });
      await view.getByText('Only an admin may change templates').waitFor();
      assert.equal(await view.getByRole('button', { name: 'Save' }).count(), 0, 'a VIEWER is offered Save');
      await previewShows(view, `Report ${run} firing on 2 alerts`);
    },
    {
      hash: '#templates',
      // As in access.test.js: a route in front of /query plays the token contract; Herald itself runs open.
      setup: (page) =>
        page.route('**/query', async (route) => {
          const auth = route.request().headers().authorization ?? '';
          const { query } = route.request().postDataJSON();
          if (auth !== 'Bearer viewer-token') {
            return route.fulfill({ json: { errors: [{ message: 'a token is required', extensions: { code: 'UNAUTHENTICATED' } }], data: null } });
          }
          if (query.includes('__type')) return route.fulfill({ json: { data: { __type: { fields: [{ name: 'messageTemplates' }, { name: 'me' }] } } } });
          if (query.includes('me {')) return route.fulfill({ json: { data: { me: { role: 'VIEWER' } } } });
          const headers = route.request().headers();
          delete headers.authorization;
          return route.continue({ headers });
        }),
    },
  ));
