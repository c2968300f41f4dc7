// The Overview tab: delivery health at a glance for the last 24 hours or 7 days, from one
// deliveryStats query (every figure counted by the database): totals, deliveries per hour by
// outcome, each platform's call latency, the robots failing most and alerts by source. The charts
// are hand-drawn SVG (a few dozen elements each: smaller than any chart library) with the same
// figures in a table beside each, for screen readers and for copying. It refreshes when an alert
// changes (alertChanged), or every minute without a socket.

import { gql } from './api.js';
import { ALERT_CHANGED, DELIVERY_STATS } from './documents.js';
import { formatNumber, t } from './i18n.js';
import { subscribe } from './live.js';
import { platformBadge } from './platforms.js';
import { SVG, announce, debounce, el, fillRows, formatTime } from './ui.js';

const RANGES = { day: { hours: 24 }, week: { hours: 24 * 7 } };
// The outcomes stacked in the chart, bottom up, each with its colour class in style.css.
const OUTCOMES = ['sent', 'failed', 'pending', 'held', 'dropped'];
const POLL_MS = 60_000;

export function overviewTab(panel) {
  const rangeSelect = panel.querySelector('#overview-range');
  const cards = panel.querySelector('#overview-cards');
  const chart = panel.querySelector('#overview-chart');
  const chartTable = panel.querySelector('#overview-chart-table tbody');
  const latency = panel.querySelector('#overview-latency');
  const sources = panel.querySelector('#overview-sources');
  const robots = panel.querySelector('#overview-robots');
  const updated = panel.querySelector('#overview-updated');
  let unsubscribe = null;
  let poll = null;
  let visible = false;

  async function load() {
    const hours = RANGES[rangeSelect.value]?.hours ?? 24;
    const to = new Date();
    const from = new Date(to.getTime() - hours * 3600_000);
    try {
      const s = (await gql(DELIVERY_STATS, { from: from.toISOString(), to: to.toISOString(), bucket: 'HOUR' })).deliveryStats;
      drawCards(s);
      drawChart(s);
      drawLatency(s.latency);
      drawSources(s.alertsBySource);
      drawRobots(s.failingRobots);
      updated.textContent = t('overview.updated', { time: formatTime(new Date().toISOString()) });
    } catch (err) {
      announce(t('overview.loadFailed', { error: err.message }), { error: true });
    }
  }
  const refresh = debounce(() => visible && load(), 1000);

  function drawCards(s) {
    const rate = s.totals.sent + s.totals.failed > 0 ? s.totals.sent / (s.totals.sent + s.totals.failed) : null;
    const card = (key, value, extra = '') => el('div', { class: `stat-card ${extra}`, 'data-stat': key },
      el('span', { class: 'stat-value' }, value),
      el('span', { class: 'stat-label' }, t(`overview.card.${key}`)));
    cards.replaceChildren(
      card('alerts', formatNumber(s.alerts)),
      card('deliveries', formatNumber(s.totals.total)),
      card('sent', formatNumber(s.totals.sent), 'ok'),
      card('failed', formatNumber(s.totals.failed), s.totals.failed > 0 ? 'bad' : ''),
      card('pending', formatNumber(s.totals.pending + s.totals.held)),
      card('successRate', rate == null ? '—' : formatNumber(rate, { style: 'percent', maximumFractionDigits: 1 })),
    );
  }

  /** Stacked bars, one per hour, scaled to the busiest hour; hours are labelled every few bars. */
  function drawChart(s) {
    const width = 720;
    const height = 220;
    const pad = { left: 40, right: 36, top: 8, bottom: 28 };
    const n = s.buckets.length;
    const max = Math.max(1, ...s.buckets.map((b) => b.counts.total));
    const step = (width - pad.left - pad.right) / n;
    const y = (v) => ((height - pad.top - pad.bottom) * v) / max;
    const svg = svgEl('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img',
      'aria-label': t('overview.chart.summary', { total: formatNumber(s.totals.total), sent: formatNumber(s.totals.sent), failed: formatNumber(s.totals.failed), hours: n }) });
    for (const v of new Set([0, Math.round(max / 2), max])) {
      const at = height - pad.bottom - y(v);
      svg.append(svgEl('line', { x1: pad.left, x2: width - pad.right, y1: at, y2: at, class: 'grid' }),
        svgText(pad.left - 4, at + 4, formatNumber(v), 'axis end'));
    }
    const labelEvery = Math.ceil(n / 8);
    s.buckets.forEach((b, i) => {
      let base = height - pad.bottom;
      const x = pad.left + i * step;
      for (const o of OUTCOMES) {
        const h = y(b.counts[o]);
        if (h <= 0) continue;
        base -= h;
        const bar = svgEl('rect', { x: x + 1, y: base, width: Math.max(step - 2, 1), height: h, class: `bar bar-${o}` });
        bar.append(svgEl('title', {}, `${formatTime(b.start)}: ${t(`status.delivery.${o}`)} ${formatNumber(b.counts[o])}`));
        svg.append(bar);
      }
      if (i % labelEvery === 0) {
        svg.append(svgText(x + step / 2, height - 10, hourLabel(b.start, n > 24), 'axis middle'));
      }
    });
    const legend = el('ul', { class: 'legend' }, OUTCOMES.map((o) => el('li', {}, el('span', { class: `swatch bar-${o}`, 'aria-hidden': 'true' }), t(`status.delivery.${o}`))));
    chart.replaceChildren(svg, legend);
    fillRows(chartTable, s.buckets.filter((b) => b.counts.total > 0).map((b) => el('tr', {},
      el('th', { scope: 'row' }, formatTime(b.start)),
      ...['total', ...OUTCOMES].map((o) => el('td', { class: 'num' }, formatNumber(b.counts[o]))),
    )), t('overview.none'));
  }

  function drawLatency(list) {
    if (list.length === 0) {
      latency.replaceChildren(el('p', { class: 'muted' }, t('overview.none')));
      return;
    }
    const max = Math.max(1, ...list.map((l) => l.p95Ms));
    latency.replaceChildren(el('table', { class: 'data compact' },
      el('caption', { class: 'visually-hidden' }, t('overview.latency.title')),
      el('thead', {}, el('tr', {}, ...['platform', 'calls', 'p50', 'p95'].map((c) => el('th', { scope: 'col' }, t(`overview.latency.${c}`))))),
      el('tbody', {}, list.map((l) => el('tr', {},
        el('th', { scope: 'row' }, platformBadge(l.platform)),
        el('td', { class: 'num' }, formatNumber(l.attempts)),
        el('td', { class: 'num' }, t('overview.ms', { ms: formatNumber(l.p50Ms) })),
        el('td', {}, meter(l.p95Ms / max, t('overview.ms', { ms: formatNumber(l.p95Ms) }))),
      )))));
  }

  function drawSources(list) {
    if (list.length === 0) {
      sources.replaceChildren(el('p', { class: 'muted' }, t('overview.none')));
      return;
    }
    const max = Math.max(1, ...list.map((s) => s.alerts));
    sources.replaceChildren(el('table', { class: 'data compact' },
      el('caption', { class: 'visually-hidden' }, t('overview.sources.title')),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t('overview.sources.source')), el('th', { scope: 'col' }, t('overview.sources.alerts')))),
      el('tbody', {}, list.map((s) => el('tr', { 'data-source': s.sourceId ?? 'api' },
        el('th', { scope: 'row' }, s.source?.name ?? (s.sourceId ? t('overview.sources.deleted') : t('overview.sources.api'))),
        el('td', {}, meter(s.alerts / max, formatNumber(s.alerts))),
      )))));
  }

  function drawRobots(list) {
    fillRows(robots, list.map((r) => el('tr', { 'data-robot': r.lastFailure.id },
      el('th', { scope: 'row' }, platformBadge(r.platform)),
      el('td', {}, el('code', { class: 'url' }, r.lastFailure.url)),
      el('td', {}, r.lastFailure.contactNames.join(', ')),
      el('td', { class: 'num' }, t('overview.robots.ratio', { failed: formatNumber(r.failed), total: formatNumber(r.total) })),
      el('td', {}, r.lastFailure.lastError ?? ''),
      el('td', {}, el('a', { href: `#alerts`, onclick: () => sessionStorage.setItem('herald.alertsStatus', 'FAILED') }, t('overview.robots.show'))),
    )), t('overview.robots.none'));
  }

  /** Starts listening for changes, or polling when the socket cannot be had. */
  function listen() {
    unsubscribe = subscribe(ALERT_CHANGED, {}, {
      onData: refresh,
      onDown: () => {
        unsubscribe = null;
        poll ??= setInterval(() => visible && load(), POLL_MS);
      },
    });
  }

  rangeSelect.addEventListener('change', load);

  return {
    async show() {
      visible = true;
      if (!unsubscribe && !poll) listen();
      await load();
    },
    hide() {
      visible = false;
      unsubscribe?.();
      unsubscribe = null;
      clearInterval(poll);
      poll = null;
    },
  };
}

function svgEl(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

function svgText(x, y, text, cls) {
  return svgEl('text', { x, y, class: cls }, text);
}

/** An hour as the browser's locale writes it, with the day when the range spans days. */
function hourLabel(iso, withDay) {
  const options = withDay ? { weekday: 'short', hour: 'numeric' } : { hour: 'numeric', minute: '2-digit' };
  return new Date(iso).toLocaleString(undefined, options);
}

/** A bar of share (0-1) with its label beside it. */
function meter(share, label) {
  const bar = el('span', { class: 'meter-bar', 'aria-hidden': 'true' });
  // Through the CSSOM: the console's policy refuses style attributes.
  bar.style.inlineSize = `${Math.max(2, Math.round(share * 100))}%`;
  return el('span', { class: 'meter' }, bar, el('span', { class: 'meter-label' }, label));
}
