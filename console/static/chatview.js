// A robot's message drawn the way its chat client shows it: a DingTalk, WeCom or Lark bubble with
// the message's title, its markdown rendered (the subset the clients render: headings, bold, links,
// lists, quotes, WeCom's coloured <font>, mentions), and a card's header, rows and buttons. It reads
// the exact JSON body Herald would post, so what a person sees here is what the robot gets; nothing
// is parsed as HTML (every piece is built as DOM text), so a template cannot inject markup.

import { t } from './i18n.js';
import { el, icon, prettyJSON } from './ui.js';

/** The message body (JSON as the platform gets it) drawn as a chat message; null if unreadable. */
export function chatMessage(platform, body) {
  let msg;
  try {
    msg = JSON.parse(body);
  } catch {
    return null;
  }
  const draw = { DINGTALK: dingtalk, WECOM: wecom, LARK: lark }[platform];
  const content = draw?.(msg);
  if (!content) return null;
  return el('div', { class: `chat chat-${platform.toLowerCase()}` }, el('div', { class: 'chat-avatar', 'aria-hidden': 'true' }, icon('bell')), el('div', { class: 'chat-bubble' }, content));
}

function dingtalk(m) {
  switch (m.msgtype) {
    case 'text':
      return plain(m.text?.content);
    case 'markdown':
      return markdown(m.markdown?.text);
    case 'actionCard': {
      const c = m.actionCard ?? {};
      const buttons = c.btns?.length ? c.btns.map((b) => ({ text: b.title, url: b.actionURL })) : c.singleTitle ? [{ text: c.singleTitle, url: c.singleURL }] : [];
      return [markdown(c.text), buttonRow(buttons, c.btnOrientation === '1' ? 'vertical' : 'horizontal')];
    }
    default:
      return null;
  }
}

function wecom(m) {
  switch (m.msgtype) {
    case 'text':
      return plain(m.text?.content);
    case 'markdown':
      return markdown(m.markdown?.content);
    case 'template_card': {
      const c = m.template_card ?? {};
      return el('div', { class: 'chat-card' },
        c.source?.desc && el('p', { class: 'chat-card-source' }, c.source.desc),
        el('p', { class: 'chat-card-title' }, c.main_title?.title ?? ''),
        c.main_title?.desc && el('p', { class: 'chat-muted' }, c.main_title.desc),
        c.sub_title_text && el('p', { class: 'chat-card-text' }, c.sub_title_text),
        c.horizontal_content_list?.length > 0 && el('dl', { class: 'chat-rows' },
          c.horizontal_content_list.flatMap((r) => [el('dt', {}, r.keyname), el('dd', {}, r.value)])),
        c.jump_list?.length > 0 && el('ul', { class: 'chat-jumps' }, c.jump_list.map((j) => el('li', {}, link(j.title, j.url)))),
      );
    }
    default:
      return null;
  }
}

function lark(m) {
  switch (m.msg_type) {
    case 'text':
      return plain(m.content?.text);
    case 'post': {
      const post = Object.values(m.content?.post ?? {})[0] ?? {};
      return [post.title && el('p', { class: 'chat-title' }, post.title),
        ...(post.content ?? []).map((line) => el('p', {}, line.map(larkElement)))];
    }
    case 'interactive': {
      const card = m.card ?? {};
      const header = card.header ?? {};
      const elements = card.body?.elements ?? card.elements ?? [];
      return el('div', { class: 'chat-card' },
        el('p', { class: `chat-card-header lark-${header.template ?? 'blue'}` }, header.title?.content ?? ''),
        el('div', { class: 'chat-card-body' }, elements.map(larkCardElement)));
    }
    default:
      return null;
  }
}

function larkElement(e) {
  switch (e.tag) {
    case 'a':
      return link(e.text, e.href);
    case 'at':
      return mention(e.user_id === 'all' ? 'all' : e.user_id);
    default:
      return e.text ?? '';
  }
}

function larkCardElement(e) {
  switch (e.tag) {
    case 'markdown':
      return markdown(e.content);
    case 'div':
      return markdown(e.text?.content);
    case 'hr':
      return el('hr');
    case 'note':
      return el('p', { class: 'chat-muted' }, (e.elements ?? []).map((n) => n.content).join(' '));
    case 'button':
      return buttonRow([{ text: e.text?.content, url: e.behaviors?.[0]?.default_url ?? e.url }]);
    case 'action':
      return buttonRow((e.actions ?? []).map((a) => ({ text: a.text?.content, url: a.url })));
    default:
      return null;
  }
}

function plain(text) {
  return (text ?? '').split('\n').map((line) => el('p', {}, line));
}

function buttonRow(buttons, orientation = 'horizontal') {
  return buttons.length > 0 && el('div', { class: `chat-buttons ${orientation}` }, buttons.map((b) => link(b.text, b.url, 'chat-button')));
}

function link(text, url, cls = '') {
  // Only web links are followed; anything else is shown as text.
  return /^https?:\/\//i.test(url ?? '') ? el('a', { href: url, target: '_blank', rel: 'noopener noreferrer', class: cls || null }, text ?? url) : el('span', { class: cls || null }, text ?? '');
}

function mention(who) {
  return el('span', { class: 'chat-mention' }, `@${who}`);
}

/** The markdown the clients render, block by block. */
function markdown(text) {
  const blocks = [];
  let list = null;
  for (const raw of (text ?? '').split('\n')) {
    const line = raw.trimEnd();
    const item = line.match(/^\s*(?:[-*]|\d+\.)\s+(.*)$/);
    if (item) {
      list ??= el('ul');
      list.append(el('li', {}, inline(item[1])));
      continue;
    }
    if (list) {
      blocks.push(list);
      list = null;
    }
    const heading = line.match(/^(#{1,6})\s+(.*)$/);
    if (heading) blocks.push(el(`h${Math.min(heading[1].length + 2, 6)}`, { class: 'chat-heading' }, inline(heading[2])));
    else if (/^>\s?/.test(line)) blocks.push(el('blockquote', {}, inline(line.replace(/^>\s?/, ''))));
    else if (/^(-{3,}|\*{3,})$/.test(line)) blocks.push(el('hr'));
    else if (line !== '') blocks.push(el('p', {}, inline(line)));
  }
  if (list) blocks.push(list);
  return blocks;
}

// Inline markup: **bold**, [text](url), <font color="...">text</font>, <at ...></at> and @mentions.
const INLINE = /\*\*(.+?)\*\*|\[([^\]]*)\]\(([^)\s]+)\)|<font color="?([#\w]+)"?>(.*?)<\/font>|<at (?:id|user_id|email)="?([^">]+)"?>(?:[^<]*)<\/at>/g;

/** WeCom's named colours (info, comment, warning) by class; DingTalk's hex colours through the CSSOM,
 * as the console's policy refuses style attributes. */
function font(color, text) {
  const span = el('span', { class: /^\w+$/.test(color) ? `chat-font-${color.toLowerCase()}` : null }, inline(text));
  if (/^#[0-9a-f]{3,8}$/i.test(color)) span.style.color = color;
  return span;
}

function inline(text) {
  const out = [];
  let at = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > at) out.push(text.slice(at, m.index));
    if (m[1] !== undefined) out.push(el('strong', {}, m[1]));
    else if (m[3] !== undefined) out.push(link(m[2], m[3]));
    else if (m[4] !== undefined) out.push(font(m[4], m[5]));
    else out.push(mention(m[6]));
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

/**
 * A preview's message: the chat view (when the body can be drawn) with the exact JSON under it,
 * folded when there is a chat view to read instead. label names the platform for screen readers.
 */
export function previewBody(platform, body, label, cls = 'body') {
  const chat = chatMessage(platform, body);
  const json = el('pre', { class: cls, tabindex: 0, 'aria-label': label }, prettyJSON(body));
  if (!chat) return json;
  return [
    el('figure', { class: 'chat-view', 'aria-label': t('common.chatView', { platform: platformName(platform) }) }, chat),
    el('details', { class: 'request-body' }, el('summary', {}, t('common.requestBody')), json),
  ];
}

function platformName(platform) {
  return t(`platform.${platform.toLowerCase()}`);
}
