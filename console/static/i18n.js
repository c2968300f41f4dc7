// The console's languages: English and Simplified Chinese. Every string a person reads comes from
// one catalogue per language (locales/en.js, locales/zh.js, the same keys); dates and numbers are
// written in the browser's own locale. The choice is remembered in this browser.

import en from './locales/en.js';
import zh from './locales/zh.js';

const LANGUAGE_KEY = 'herald.language';
export const catalogues = { en, zh };
export const languages = [
  { code: 'en', name: 'English', tag: 'en' },
  { code: 'zh', name: '简体中文', tag: 'zh-CN' },
];

/** The language chosen in this browser, else the browser's own when it is Chinese, else English. */
function initialLanguage() {
  const stored = localStorage.getItem(LANGUAGE_KEY);
  if (catalogues[stored]) return stored;
  return (navigator.languages ?? [navigator.language]).some((l) => /^zh\b/i.test(l)) ? 'zh' : 'en';
}

let current = initialLanguage();

/** The language the console speaks now. */
export const language = () => current;

/** Speaks code from the next load on. */
export function chooseLanguage(code) {
  if (!catalogues[code]) return;
  localStorage.setItem(LANGUAGE_KEY, code);
  current = code;
}

const plurals = {};

/**
 * The text of key in the current language, with {name} replaced by vars.name. A text may be
 * { one, other } (English plurals), chosen by vars.count. A key missing from the language falls
 * back to English, and a key missing from both shows itself, so that a test notices.
 */
export function t(key, vars = {}) {
  let text = catalogues[current][key] ?? en[key];
  if (text === undefined) return key;
  if (typeof text === 'object') {
    plurals[current] ??= new Intl.PluralRules(tag());
    text = text[plurals[current].select(vars.count ?? 0)] ?? text.other;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** The BCP 47 tag of the current language, for <html lang>. */
export function tag() {
  return languages.find((l) => l.code === current).tag;
}

/**
 * Translates the static page: an element with data-i18n="key" gets the key's text, and
 * data-i18n-attr="aria-label:key; placeholder:key2" sets those attributes.
 */
export function translatePage(root = document) {
  document.documentElement.lang = tag();
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of node.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key) node.setAttribute(attr, t(key));
    }
  }
}

/** A number written the browser's way. */
export function formatNumber(n, options) {
  return new Intl.NumberFormat(undefined, options).format(n);
}
