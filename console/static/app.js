// Entry point: the tabs, the session's token and role, and which actions the role may take.

import { ApiError, gql, namespace, onUnauthenticated, token } from './api.js';
import { alertsTab } from './alerts.js';
import { ME, NAMESPACES, QUERY_FIELDS } from './documents.js';
import { contactsTab } from './contacts.js';
import { groupsTab } from './groups.js';
import { chooseLanguage, language, languages, t, translatePage } from './i18n.js';
import { integrationsTab } from './integrations.js';
import { overviewTab } from './overview.js';
import { loadPlatforms } from './platforms.js';
import { routesTab } from './routes.js';
import { templatesTab } from './templates.js';
import { announce, openDialog } from './ui.js';

translatePage();
document.title = t('app.title');

const tabs = {
  overview: overviewTab(document.getElementById('panel-overview')),
  contacts: contactsTab(document.getElementById('panel-contacts')),
  groups: groupsTab(document.getElementById('panel-groups')),
  alerts: alertsTab(document.getElementById('panel-alerts')),
  routes: routesTab(document.getElementById('panel-routes')),
  integrations: integrationsTab(document.getElementById('panel-integrations')),
  templates: templatesTab(document.getElementById('panel-templates')),
};
const tabButtons = [...document.querySelectorAll('[role="tab"]')];
let current = null;

/** Shows one tab (ARIA tabs: one tab stop, arrows move between tabs) and loads its data. */
function select(name, { focus = false } = {}) {
  if (!tabs[name]) name = 'overview';
  for (const b of tabButtons) {
    const on = b.id === `tab-${name}`;
    b.setAttribute('aria-selected', String(on));
    b.tabIndex = on ? 0 : -1;
    document.getElementById(b.getAttribute('aria-controls')).hidden = !on;
    if (on && focus) b.focus();
  }
  if (current !== name) tabs[current]?.hide();
  current = name;
  if (location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
  return tabs[name].show();
}

for (const b of tabButtons) {
  const name = b.id.replace('tab-', '');
  b.addEventListener('click', () => select(name));
  b.addEventListener('keydown', (event) => {
    const i = tabButtons.indexOf(b);
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabButtons.length - 1 }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    select(tabButtons.at(to % tabButtons.length).id.replace('tab-', ''), { focus: true });
  });
}

// ---- Language ----

// Another language is every string of the page: start over in it, as for another namespace.
const languageSelect = document.getElementById('language');
languageSelect.replaceChildren(...languages.map((l) => new Option(l.name, l.code, false, l.code === language())));
languageSelect.addEventListener('change', () => {
  chooseLanguage(languageSelect.value);
  location.reload();
});

// ---- Token and role ----

const tokenDialog = document.getElementById('token-dialog');
const tokenForm = tokenDialog.querySelector('form');
const tokenInput = tokenForm.elements.token;
const tokenError = tokenForm.querySelector('.field-error');
const signIn = document.getElementById('sign-in');
const forget = document.getElementById('forget-token');
let tokenRequired = false;
let prompt = null;

/**
 * Asks for a token once however many requests were refused at the same time; every one of them
 * retries when it is given, and fails when the user closes the prompt instead.
 */
onUnauthenticated(({ refused }) => {
  tokenRequired = true;
  prompt ??= new Promise((resolve, reject) => {
    tokenForm.reset();
    tokenError.textContent = refused ? t('token.refused') : '';
    tokenError.hidden = !refused;
    const onSubmit = (event) => {
      event.preventDefault();
      const value = tokenInput.value.trim();
      if (!value) {
        tokenError.textContent = t('token.empty');
        tokenError.hidden = false;
        return;
      }
      token.set(value);
      tokenDialog.close('signed-in');
    };
    tokenForm.addEventListener('submit', onSubmit);
    tokenDialog.addEventListener(
      'close',
      () => {
        tokenForm.removeEventListener('submit', onSubmit);
        prompt = null;
        showSession();
        if (tokenDialog.returnValue !== 'signed-in') {
          reject(new ApiError([{ message: t('token.needed'), extensions: { code: 'UNAUTHENTICATED' } }]));
          return;
        }
        resolve();
        // A token asked for mid-session (the old one expired) may carry another role.
        if (document.body.dataset.role) applyRole();
      },
      { once: true },
    );
    tokenDialog.returnValue = '';
    openDialog(tokenDialog, tokenInput);
  });
  return prompt;
});

/** Offers to sign in after the prompt was dismissed, and to forget a stored token. */
function showSession() {
  const has = token.get() != null;
  forget.hidden = !has;
  signIn.hidden = has || !tokenRequired;
}

/**
 * The caller's role. Until Herald has authentication the `me` field does not exist, and then
 * everyone is an administrator. gqlgen answers a query naming an unknown field with HTTP 422,
 * which the browser logs as a failed request, so the schema is asked first whether `me` exists.
 */
async function fetchRole() {
  const schema = await gql(QUERY_FIELDS).catch((err) => {
    if (err.has('UNAUTHENTICATED') || err.refusedNamespace != null) throw err;
    return null; // introspection may be turned off: ask for `me` and read the answer
  });
  // The playground is served exactly when introspection is on.
  document.getElementById('playground-link').hidden = !schema?.__type;
  if (schema?.__type && !schema.__type.fields.some((f) => f.name === 'me')) return 'ADMIN';
  try {
    return (await gql(ME)).me.role;
  } catch (err) {
    if (err.has('GRAPHQL_VALIDATION_FAILED')) return 'ADMIN';
    throw err;
  }
}

// ---- Namespace ----

const namespacePicker = document.getElementById('namespace-picker');
const namespaceSelect = document.getElementById('namespace');

/**
 * Fills the namespace selector with the namespaces the token may use and runs every later request
 * in the one this browser chose last, or in default (else the first listed) when that one is not
 * listed: deleted, or not the token's. A single namespace is shown all the same, so the user knows
 * where they are.
 */
async function loadNamespaces() {
  const list = (await gql(NAMESPACES)).namespaces;
  const names = list.map((n) => n.name);
  const remembered = namespace.remembered();
  const chosen = names.includes(remembered) ? remembered : names.includes('default') ? 'default' : names[0];
  namespace.use(chosen, { remember: remembered != null && chosen !== remembered });
  namespaceSelect.replaceChildren(...list.map((n) => {
    const option = new Option(n.name, n.name, false, n.name === chosen);
    if (n.description) option.title = n.description;
    return option;
  }));
  namespaceSelect.value = chosen;
  namespaceSelect.disabled = list.length === 1;
  namespacePicker.hidden = false;
}

// Another namespace is another set of contacts, groups and alerts: start over in it rather than
// keep any row, picker or open dialog of the previous one.
namespaceSelect.addEventListener('change', () => {
  namespace.use(namespaceSelect.value, { remember: true });
  location.reload();
});

/**
 * Settles the namespace and records the role on <body>; style.css hides every control marked
 * data-requires="manage" (ADMIN only) or data-requires="send" (SENDER and ADMIN) that the role may
 * not use, and those marked data-unless="manage" (a read-only View beside an admin's Edit) from
 * an admin.
 */
async function applyRole() {
  try {
    const role = await fetchRole();
    await loadNamespaces();
    await loadPlatforms();
    document.body.dataset.role = role;
    const badge = document.getElementById('role');
    badge.textContent = { ADMIN: t('role.admin'), SENDER: t('role.sender'), VIEWER: t('role.viewer') }[role] ?? role.toLowerCase();
    badge.title = t('role.signedInAs', { role, roleName: badge.textContent });
    badge.hidden = token.get() == null;
    return true;
  } catch (err) {
    if (err.refusedNamespace != null && err.refusedNamespace === namespace.get()) {
      // The namespace this browser chose last is gone or not the token's: start again in Herald's
      // default, whose list loadNamespaces then picks from.
      namespace.use(null);
      return applyRole();
    }
    announce(t('app.startFailed', { error: err.message }), { error: true });
    return false;
  }
}

async function start() {
  showSession();
  if (await applyRole()) await select(location.hash.slice(1));
}

signIn.addEventListener('click', start);
forget.addEventListener('click', () => {
  token.clear();
  location.reload();
});
window.addEventListener('hashchange', () => select(location.hash.slice(1)));

start();
