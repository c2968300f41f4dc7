// Building blocks shared by the tabs: DOM construction, icons, dialogs, field errors, the status
// region, the cursor pager and the lists that grow with More. The pickers are picker.js's.

import { t } from './i18n.js';

/**
 * Creates an element. Strings become text nodes, never HTML, so names typed by users cannot inject
 * markup. Props starting with "on" are listeners; true/false/null props set or omit an attribute.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, '');
    else if (value !== false && value != null) node.setAttribute(key, value);
  }
  node.append(...children.flat(Infinity).filter((c) => c != null && c !== false));
  return node;
}

export const SVG = 'http://www.w3.org/2000/svg';

// Stroke icons on a 24×24 grid.
const ICONS = {
  plus: 'M12 5v14M5 12h14',
  edit: 'M4 20h4L19 9l-4-4L4 16v4zM13.5 6.5l4 4',
  trash: 'M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13M10 11v6M14 11v6',
  send: 'M21 3 10 14M21 3l-7 18-4-7-7-4 18-7z',
  eye: 'M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12zM12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6z',
  lock: 'M6 11h12v9H6zM8 11V8a4 4 0 0 1 8 0v3',
  key: 'M14 10a4 4 0 1 0-3.5 4L12 16h2v2h2v2h3v-3l-6.2-6.2',
  close: 'M6 6l12 12M18 6 6 18',
  bell: 'M6 16V11a6 6 0 0 1 12 0v5l2 2H4l2-2zM10 20a2 2 0 0 0 4 0',
  mute: 'M8.5 5.1A6 6 0 0 1 18 11v4M6 10.5V16l-2 2h14M10 20a2 2 0 0 0 4 0M3 3l18 18',
  up: 'M12 19V5M6 11l6-6 6 6',
  down: 'M12 5v14M6 13l6 6 6-6',
  stop: 'M7 7h10v10H7z',
};

export function icon(name) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.append(path);
  return svg;
}

/** A real button with an icon and a visible label; aria-label adds context such as the row's name. */
export function button(label, iconName, onclick, props = {}) {
  return el('button', { type: 'button', ...props, onclick }, iconName && icon(iconName), el('span', {}, label));
}

/** Puts rows in a table body, or a single row saying why there are none. */
export function fillRows(tbody, rows, empty) {
  const columns = tbody.closest('table').tHead.rows[0].cells.length;
  tbody.replaceChildren(...(rows.length > 0 ? rows : [el('tr', {}, el('td', { colspan: columns, class: 'empty' }, empty))]));
}

// ---- Status region ----

let statusTimer;

/** Tells sighted users (a toast) and screen readers (the aria-live region) what just happened. */
export function announce(message, { error = false } = {}) {
  const region = document.getElementById('status');
  region.classList.toggle('error', error);
  // Clearing first makes screen readers repeat an identical message.
  region.textContent = '';
  requestAnimationFrame(() => {
    region.textContent = message;
  });
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => {
    region.textContent = '';
  }, error ? 12000 : 6000);
}

// ---- Dialogs ----

const FOCUSABLE = 'button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])';

/**
 * Opens a native modal dialog (the page behind it becomes inert, Escape closes it), keeps Tab
 * cycling inside it rather than escaping to the browser's toolbar, and gives focus back to
 * whatever opened it.
 */
export function openDialog(dialog, focus) {
  const opener = document.activeElement;
  dialog.addEventListener('close', () => opener?.focus?.(), { once: true });
  if (!dialog.dataset.wired) {
    dialog.dataset.wired = 'yes';
    dialog.addEventListener('keydown', (event) => trapTab(dialog, event));
    for (const closer of dialog.querySelectorAll('[data-close]')) {
      closer.addEventListener('click', () => dialog.close());
    }
  }
  dialog.showModal();
  (focus ?? dialog.querySelector('[autofocus]') ?? dialog.querySelector(FOCUSABLE))?.focus();
}

function trapTab(dialog, event) {
  if (event.key !== 'Tab') return;
  const items = [...dialog.querySelectorAll(FOCUSABLE)].filter((n) => !n.disabled && n.getClientRects().length > 0);
  if (items.length === 0) return;
  const first = items[0];
  const last = items[items.length - 1];
  if (event.shiftKey && document.activeElement === first) {
    last.focus();
    event.preventDefault();
  } else if (!event.shiftKey && document.activeElement === last) {
    first.focus();
    event.preventDefault();
  }
}

/** Asks before a destructive action; resolves true only on an explicit confirmation. */
export function confirmAction({ title, message, action }) {
  const dialog = document.getElementById('confirm-dialog');
  dialog.querySelector('#confirm-title').textContent = title;
  dialog.querySelector('#confirm-message').textContent = message;
  const ok = dialog.querySelector('[data-confirm]');
  ok.textContent = action;
  return new Promise((resolve) => {
    const form = dialog.querySelector('form');
    const onSubmit = (event) => {
      event.preventDefault();
      dialog.close('confirmed');
    };
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener(
      'close',
      () => {
        form.removeEventListener('submit', onSubmit);
        resolve(dialog.returnValue === 'confirmed');
      },
      { once: true },
    );
    dialog.returnValue = '';
    // Focus the safe choice: Enter on a freshly opened confirmation must not delete.
    openDialog(dialog, dialog.querySelector('[data-close]'));
  });
}

/** Disables a form's submit button while its request runs, so a double click sends once. */
export async function busy(form, work) {
  const submit = form.querySelector('[type="submit"]');
  submit.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    submit.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

// ---- Field errors ----

/**
 * Removes every error shown in a form or, given fields (API input paths), only those fields'
 * errors, leaving the rest (a live preview re-checks its own fields, not a save's others).
 */
export function clearErrors(form, fields = null) {
  if (fields) {
    for (const field of fields) {
      const holder = form.querySelector(`[data-field="${CSS.escape(field)}"]`);
      if (!holder) continue;
      const p = holder.querySelector(':scope > .field-error');
      if (p) {
        p.textContent = '';
        p.hidden = true;
      }
      holder.querySelector('[aria-invalid]')?.removeAttribute('aria-invalid');
    }
    return;
  }
  for (const p of form.querySelectorAll('.field-error, .form-error')) {
    p.textContent = '';
    p.hidden = true;
  }
  for (const n of form.querySelectorAll('[aria-invalid]')) n.removeAttribute('aria-invalid');
}

/**
 * Puts each error of an ApiError next to the field it belongs to. Fields are marked with
 * data-field holding the API's input path; an error whose exact path has no element goes to the
 * nearest enclosing path (input.webhooks[1].url → input.webhooks[1] → input.webhooks), and one with
 * no field at all to the form's own error line (or to fallback, when given). Focuses the first
 * field in error and announces the outcome ("Not saved") with the messages; quiet, for checks made
 * as the user types, does neither and leaves the errors already shown (clear them with
 * clearErrors(form, fields) first).
 */
export function showErrors(form, err, outcome = t('ui.notSaved'), { quiet = false, fallback = null } = {}) {
  if (!quiet) clearErrors(form);
  let firstControl = null;
  let firstMessage = null;
  for (const e of err.errors) {
    const holder = fieldHolder(form, e.extensions?.field);
    const target = holder?.querySelector(':scope > .field-error') ?? fallback ?? form.querySelector('.form-error');
    target.textContent = target.textContent ? `${target.textContent} ${e.message}` : e.message;
    target.hidden = false;
    firstMessage ??= target;
    // A holder without its own control (a URL shown in a per-URL row) names the one it came from.
    const control = holder && (holder.querySelector('input, textarea, select') ?? document.getElementById(holder.dataset.control));
    if (control) {
      control.setAttribute('aria-invalid', 'true');
      target.id ||= `field-error-${++errorIds}`;
      const described = new Set((control.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean));
      described.add(target.id);
      control.setAttribute('aria-describedby', [...described].join(' '));
      firstControl ??= control;
    }
  }
  if (quiet) return;
  firstControl?.focus();
  // The message may sit elsewhere than its control (a URL's row below the URL list): show it too.
  firstMessage?.scrollIntoView({ block: 'nearest' });
  announce(t('ui.outcome', { outcome, error: err.message }), { error: true });
}

let errorIds = 0;

/** Hides a field's error as soon as that field is changed. */
export function clearErrorsAsTyped(form) {
  form.addEventListener('input', (event) => {
    const error = event.target.closest('[data-field]')?.querySelector(':scope > .field-error');
    if (error) {
      // Emptied as well as hidden: aria-describedby would still read hidden text.
      error.textContent = '';
      error.hidden = true;
    }
    event.target.removeAttribute('aria-invalid');
  });
}

function fieldHolder(form, field) {
  for (let path = field ?? ''; path; ) {
    const holder = form.querySelector(`[data-field="${CSS.escape(path)}"]`);
    if (holder) return holder;
    const parent = path.replace(/(\[\d+\]|\.?[^.[\]]+)$/, '');
    if (parent === path) break;
    path = parent;
  }
  return null;
}

// ---- Rows the user adds and removes ----

/**
 * An editable list of rows (matchers, labels, time windows) in container: render(value, i) draws
 * one row, read(row) reads it back, blank() is a new row's value. Adding or removing a row redraws
 * them all from what they hold, so each row's index, and so the API path its errors are shown at
 * (input.matchers[2].value), stays its position. addButton adds a row; min rows are always kept.
 */
export class RowList {
  constructor(container, { render, read, blank, addButton, min = 0 }) {
    Object.assign(this, { container, render, read, blank, addButton, min });
    addButton.addEventListener('click', () => this.add());
  }

  values() {
    return [...this.container.children].map((row) => this.read(row));
  }

  set(values) {
    const list = [...values];
    while (list.length < this.min) list.push(this.blank());
    this.container.replaceChildren(...list.map((v, i) => this.#row(v, i, list.length)));
  }

  /** Adds a row and moves focus into it. */
  add(value = this.blank()) {
    this.set([...this.values(), value]);
    this.container.lastElementChild?.querySelector('input, select')?.focus();
  }

  /** Removes row i; focus goes to the row now in its place, or the one before, or addButton. */
  remove(i) {
    const values = this.values();
    values.splice(i, 1);
    this.set(values);
    const next = this.container.children[Math.min(i, this.container.children.length - 1)];
    (next?.querySelector('input, select') ?? this.addButton).focus();
  }

  #row(value, i, count) {
    const row = this.render(value, i);
    const remove = row.querySelector('[data-remove]');
    if (remove) {
      remove.disabled = count <= this.min;
      remove.addEventListener('click', () => this.remove(i));
    }
    return row;
  }
}

// ---- Pagination ----

/**
 * Previous/Next over a cursor connection: Next reads the page after the last row shown
 * (first/after), Previous the page before the first (last/before), so either stays right while
 * rows come and go. `args` are the paging variables of the page to load.
 */
export class Pager {
  #args;
  #start = 0; // rows before the page shown, for "21–40 of 97"; null: count back from the end
  #shown = 0;
  #moved = null; // 'next' or 'prev' until the page it asked for arrives
  #pageInfo = null;

  constructor(nav, size, onChange) {
    this.size = size;
    this.range = nav.querySelector('.range');
    this.prevButton = nav.querySelector('[data-page="prev"]');
    this.nextButton = nav.querySelector('[data-page="next"]');
    this.reset();
    this.prevButton.addEventListener('click', () => {
      this.#args = { last: size, before: this.#pageInfo.startCursor };
      this.#moved = 'prev';
      onChange();
    });
    this.nextButton.addEventListener('click', () => {
      this.#args = { first: size, after: this.#pageInfo.endCursor };
      this.#moved = 'next';
      onChange();
    });
  }

  get args() {
    return this.#args;
  }

  reset() {
    this.#args = { first: this.size };
    this.#start = 0;
  }

  /**
   * When the page read came back empty because its rows were deleted, moves to where rows remain
   * (the end of the list, or its start) and says so: the caller loads again.
   */
  recover(connection) {
    const { after, before } = this.#args;
    if (connection.edges.length > 0 || (after == null && before == null)) return false;
    if (after != null) {
      this.#args = { last: this.size };
      this.#start = null;
    } else {
      this.reset();
    }
    this.#moved = null;
    return true;
  }

  update(connection) {
    const { pageInfo, totalCount } = connection;
    const shown = connection.edges.length;
    // Positions are counted from the moves made, so they are approximate once rows came and went
    // elsewhere; the cursors, not these numbers, decide which rows are read.
    if (!pageInfo.hasPreviousPage) this.#start = 0;
    else if (this.#start == null) this.#start = Math.max(0, totalCount - shown);
    else if (this.#moved === 'next') this.#start += this.#shown;
    else if (this.#moved === 'prev') this.#start = Math.max(1, this.#start - shown); // rows precede it
    this.#moved = null;
    this.#shown = shown;
    this.#pageInfo = pageInfo;
    this.range.textContent = shown
      ? t('ui.pager.range', { from: this.#start + 1, to: this.#start + shown, total: totalCount })
      : t('ui.pager.empty', { total: totalCount });
    this.prevButton.disabled = !pageInfo.hasPreviousPage;
    this.nextButton.disabled = !pageInfo.hasNextPage;
  }
}

/**
 * A list read forward a page at a time, More appending the next page: for lists too long to read
 * whole (a group's members, an alert's deliveries).
 * page(after, shown) reads the page that follows after (null: the first) when shown items are
 * shown, and resolves to { items, after, total }: after is what to pass for the next page, null at
 * the end; total how many there are in all. render(item) draws one item (an li); empty() says why
 * there are none; count, when given, shows "20 of 97". A load started later wins over an answer
 * still on its way, and errors go to onError.
 */
export class MoreList {
  #after = null;
  #shown = 0;
  #loads = 0;

  constructor(list, moreButton, { page, render, empty, count = null, onError }) {
    Object.assign(this, { list, moreButton, page, render, empty, count, onError });
    moreButton.hidden = true;
    moreButton.addEventListener('click', () => this.more());
  }

  /** How many items are shown. */
  get shown() {
    return this.#shown;
  }

  /** Shows a first page read elsewhere (by the query that read its owner). */
  show(first) {
    this.#loads++;
    this.#draw(first, true);
  }

  /** Shows a line (Loading…) instead of the items until the next load arrives. */
  wait(text) {
    this.#loads++;
    this.#shown = 0;
    this.#after = null;
    this.list.replaceChildren(el('li', { class: 'muted list-empty' }, text));
    this.moreButton.hidden = true;
    if (this.count) this.count.textContent = '';
  }

  /** Reads the list again from its start, at least atLeast items (by default as many as are shown). */
  async reload(atLeast = this.#shown) {
    const load = ++this.#loads;
    const items = [];
    let next;
    try {
      do {
        next = await this.page(next?.after ?? null, items.length);
        if (load !== this.#loads) return;
        items.push(...next.items);
      } while (next.after != null && items.length < atLeast);
    } catch (err) {
      if (load === this.#loads) this.onError(err);
      return;
    }
    this.#draw({ ...next, items }, true);
  }

  /** Appends the next page. */
  async more() {
    const load = ++this.#loads;
    this.moreButton.disabled = true;
    try {
      const next = await this.page(this.#after, this.#shown);
      if (load !== this.#loads) return;
      const focused = this.moreButton === document.activeElement;
      const first = this.#draw(next, false);
      // The button goes with the last page: focus the first item it brought instead.
      if (focused && this.moreButton.hidden && first) {
        first.tabIndex = -1;
        first.focus();
      }
    } catch (err) {
      if (load === this.#loads) this.onError(err);
    } finally {
      this.moreButton.disabled = false;
    }
  }

  /** Draws a page (replacing what is shown, or after it) and returns its first item's element. */
  #draw({ items, after, total }, replace) {
    if (replace) {
      this.#shown = 0;
      this.list.replaceChildren();
    }
    const drawn = items.map((item) => this.render(item));
    this.list.append(...drawn);
    this.#shown += items.length;
    this.#after = after;
    if (this.#shown === 0) this.list.replaceChildren(el('li', { class: 'muted list-empty' }, this.empty()));
    this.moreButton.hidden = after == null;
    if (this.count) this.count.textContent = total > 0 ? t('ui.more.count', { shown: this.#shown, total }) : '';
    return drawn[0];
  }
}

/** Runs fn once the calls stop for ms milliseconds (typing in a search box). */
export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A time as the user's locale writes it. */
export function formatTime(iso) {
  return iso ? new Date(iso).toLocaleString() : '';
}

/** Robot bodies are JSON on one line; indent them so a reader can check what a robot gets. */
export function prettyJSON(body) {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}
