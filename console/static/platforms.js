// The platforms Herald speaks, as its `platforms` query describes them: their labels, and how a
// webhook URL shows its platform. Nothing here names a platform except its mark, which is the
// console's own artwork; a platform without one is shown by its label alone.

import { gql } from './api.js';
import { PLATFORMS } from './documents.js';
import { language, t } from './i18n.js';
import { SVG, el } from './ui.js';

// Each platform's mark: a shape of its own in its own colour (style.css), not its logo.
const MARKS = {
  DINGTALK: ['M12 2a10 10 0 1 1 0 20 10 10 0 0 1 0-20z', 'M13.5 5.5 8 13h3.5l-1 5.5L16 11h-3.5z'],
  WECOM: ['M3 4h11a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1H8l-4 3v-3H3a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1z', 'M17 9h4a1 1 0 0 1 1 1v7a1 1 0 0 1-1 1h-1v3l-4-3h-5a1 1 0 0 1-1-1v-2h5a2 2 0 0 0 2-2z'],
  LARK: ['M2 11c6 0 10-3 13-8 2 5 1 10-2 13l9 3c-8 3-15 1-20-8z'],
};

let platforms = [];

/** Loads the platforms once per page; every badge and guess after it uses them. */
export async function loadPlatforms() {
  platforms = (await gql(PLATFORMS)).platforms;
}

/** The platform's icon and label, e.g. for a webhook or a delivery. */
export function platformBadge(platform) {
  // Herald's own label (the descriptor's) in English; the catalogue's name elsewhere, where it has one.
  const local = language() === 'en' ? null : { DINGTALK: t('platform.dingtalk'), WECOM: t('platform.wecom'), LARK: t('platform.lark') }[platform];
  const label = local ?? platforms.find((p) => p.platform === platform)?.label ?? platform ?? t('platform.unknown');
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'platform-icon');
  svg.setAttribute('aria-hidden', 'true');
  for (const d of MARKS[platform] ?? []) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return el('span', { class: `platform platform-${String(platform).toLowerCase()}` }, svg, label);
}

/**
 * Tells a URL's platform the way Herald recognises it (official host, then webhook path and
 * token), only to label the per-URL rows while typing; Herald's own answer is what gets stored.
 */
export function guessPlatform(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const byHost = platforms.find((p) => p.officialHosts.includes(host));
  if (byHost) return byHost.platform;
  const byPath = platforms.find((p) => {
    if (p.tokenParam) return url.pathname.endsWith(p.webhookPath) && url.searchParams.get(p.tokenParam);
    const at = url.pathname.indexOf(p.webhookPath);
    const tok = at < 0 ? '' : url.pathname.slice(at + p.webhookPath.length);
    return tok !== '' && !tok.includes('/');
  });
  return byPath?.platform ?? null;
}
