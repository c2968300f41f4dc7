// The pickers of contacts and groups (the Send form's recipients, a contact's groups, an
// integration's and a route's recipients, the contacts to add to a group): a search box that asks
// Herald for the first matches as the user types. A namespace may hold a hundred thousand contacts,
// so no picker reads them all.

import { gql } from './api.js';
import { t } from './i18n.js';
import { PICK_CONTACTS, PICK_GROUPS } from './documents.js';
import { debounce, el, icon } from './ui.js';

// The longest search Herald takes (filter.search).
const MAX_SEARCH = 64;

let pickers = 0;

/**
 * A multi-select combobox (the ARIA pattern: a text box that controls a listbox) in container:
 * the chosen items as chips with a remove button, then the box, then the matches of what is typed.
 * search(text) resolves to { items, total }: the first matches of the trimmed text ('' for all) and
 * how many match in all; option(item) draws a match, chips show item.name. The box asks as the user
 * types (after a pause, and an answer overtaken by a later question is dropped) and when focused;
 * Up and Down move through the matches, Enter chooses or unchooses one, Escape closes them and
 * empties the box, as leaving it does. What is chosen, ids and names, stays while the search
 * changes.
 *
 * label names the box, chosenLabel the chips and removeLabel(item) a chip's remove button;
 * empty(text) says there is no match, failed(err) that the search failed. onChange runs when the
 * user changes the choice, which also fires input on container so the form sees an edit, as a
 * check box's change would; a reset of the form clears it.
 */
export class SearchPicker {
  #chosen = new Map(); // id → item, in the order chosen
  #matches = []; // the items the options show
  #active = -1; // the option Enter chooses
  #asked = 0; // questions asked: only the latest one's answer is shown
  #answered = null; // the text the options answer; null: ask again when focused
  #touched = false;

  constructor(container, {
    label, placeholder, chosenLabel, search, empty, failed,
    option = (item) => item.name,
    removeLabel = (item) => t('picker.removeLabel', { name: item.name }),
    onChange = () => {},
  }) {
    Object.assign(this, { container, search, option, removeLabel, empty, failed, onChange });
    const id = `picker-${++pickers}`;
    this.chips = el('ul', { class: 'chips picked', 'aria-label': chosenLabel, hidden: true });
    this.listbox = el('ul', { id: `${id}-options`, role: 'listbox', 'aria-multiselectable': 'true', 'aria-label': t('picker.matches') });
    this.note = el('p', { class: 'picker-note muted', role: 'status' });
    // Out of the Tab order, which Chromium gives a scrolling box: focus stays in the box, and
    // aria-activedescendant names the option it is on.
    this.popup = el('div', { class: 'picker-popup', hidden: true, tabindex: '-1' }, this.listbox, this.note);
    this.input = el('input', {
      type: 'text',
      role: 'combobox',
      'aria-label': label,
      'aria-autocomplete': 'list',
      'aria-expanded': 'false',
      'aria-controls': this.listbox.id,
      placeholder,
      maxlength: MAX_SEARCH,
      autocomplete: 'off',
      spellcheck: 'false',
    });
    container.classList.add('search-picker');
    container.replaceChildren(this.chips, el('div', { class: 'combo' }, this.input, this.popup));

    const ask = debounce(() => this.#ask(), 250);
    this.input.addEventListener('input', () => {
      // The matches shown are now for another text until the answer comes.
      this.listbox.setAttribute('aria-busy', 'true');
      this.#open();
      ask();
    });
    this.input.addEventListener('focus', () => this.#openAndAsk());
    this.input.addEventListener('blur', () => this.#close());
    this.input.addEventListener('keydown', (event) => this.#key(event));
    // Clicks in the list must not take focus from the box, or blur would close the list.
    this.popup.addEventListener('mousedown', (event) => event.preventDefault());
    this.listbox.addEventListener('click', (event) => {
      const item = event.target.closest('[role="option"]');
      if (item) this.#toggle(Number(item.dataset.index));
    });
    // Like the check boxes it stands for: a reset form chooses nothing.
    this.input.form?.addEventListener('reset', () => this.clear());
  }

  /** The ids chosen, in the order chosen. */
  ids() {
    return [...this.#chosen.keys()];
  }

  /** The items chosen, each with its id and name. */
  items() {
    return [...this.#chosen.values()];
  }

  /** Whether the user changed the choice since it was last set, so a late read must not replace it. */
  get touched() {
    return this.#touched;
  }

  /** Chooses items (each with id and name), and only them: what the object edited holds now. */
  set(items) {
    this.#chosen = new Map(items.map((item) => [item.id, item]));
    this.#touched = false;
    this.#drawChips();
    this.#drawOptions();
  }

  /** Chooses nothing and forgets the search. */
  clear() {
    this.input.value = '';
    this.set([]);
    this.refresh();
  }

  /** Makes the next look ask again (what matches may have changed elsewhere): now if it is open. */
  refresh() {
    this.#answered = null;
    if (!this.popup.hidden) this.#ask();
  }

  #text() {
    return this.input.value.trim();
  }

  #open() {
    this.popup.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
  }

  /** Opens the list, asking at once when it shows the matches of another text (or none yet). */
  #openAndAsk() {
    this.#open();
    if (this.#answered !== this.#text()) this.#ask();
  }

  #close() {
    this.popup.hidden = true;
    this.input.setAttribute('aria-expanded', 'false');
    this.#activate(-1);
    // Text left in a closed box would read as a value: the chips say what is chosen.
    this.input.value = '';
  }

  async #ask() {
    const text = this.#text();
    const asked = ++this.#asked;
    this.listbox.setAttribute('aria-busy', 'true');
    if (this.#matches.length === 0) {
      this.note.classList.remove('error');
      this.note.textContent = t('picker.loading');
    }
    try {
      const { items, total } = await this.search(text);
      if (asked !== this.#asked) return;
      this.#matches = items;
      this.#answered = text;
      this.#active = -1;
      this.#drawOptions();
      this.note.classList.remove('error');
      this.note.textContent = items.length === 0 ? this.empty(text) : total > items.length ? t('picker.narrow', { count: total - items.length }) : '';
    } catch (err) {
      if (asked !== this.#asked) return;
      this.#matches = [];
      this.#answered = null;
      this.#drawOptions();
      this.note.classList.add('error');
      this.note.textContent = this.failed(err);
    } finally {
      if (asked === this.#asked && text === this.#text()) this.listbox.removeAttribute('aria-busy');
    }
  }

  #key(event) {
    const open = !this.popup.hidden;
    switch (event.key) {
      case 'ArrowDown':
      case 'ArrowUp': {
        event.preventDefault();
        if (!open) {
          this.#openAndAsk();
          return;
        }
        const last = this.#matches.length - 1;
        const step = event.key === 'ArrowDown' ? 1 : -1;
        this.#activate(this.#active < 0 ? (step > 0 ? 0 : last) : Math.min(last, Math.max(0, this.#active + step)));
        return;
      }
      case 'Enter':
        // Choosing is not submitting: Enter in the box never sends the form.
        event.preventDefault();
        if (open && this.#active >= 0) this.#toggle(this.#active);
        return;
      case 'Escape':
        // The first Escape closes the list, not the dialog around it.
        if (open) {
          event.preventDefault();
          event.stopPropagation();
          this.#close();
        }
        return;
    }
  }

  #activate(index) {
    this.#active = index;
    const options = this.listbox.children;
    for (const [i, node] of [...options].entries()) node.classList.toggle('active', i === index);
    if (index >= 0 && options[index]) {
      this.input.setAttribute('aria-activedescendant', options[index].id);
      options[index].scrollIntoView({ block: 'nearest' });
    } else {
      this.input.removeAttribute('aria-activedescendant');
    }
  }

  #toggle(index) {
    const item = this.#matches[index];
    if (!item) return;
    if (this.#chosen.has(item.id)) this.#chosen.delete(item.id);
    else this.#chosen.set(item.id, item);
    this.#changed();
    this.#drawOptions();
    this.#activate(index);
  }

  #changed() {
    this.#touched = true;
    this.#drawChips();
    this.container.dispatchEvent(new Event('input', { bubbles: true }));
    this.onChange();
  }

  #remove(item) {
    // Focus stays in the picker: on the chip now in this one's place, else the box.
    const at = this.items().findIndex((c) => c.id === item.id);
    this.#chosen.delete(item.id);
    this.#changed();
    this.#drawOptions();
    const next = this.chips.children[Math.min(at, this.chips.children.length - 1)];
    (next?.querySelector('button') ?? this.input).focus();
  }

  #drawChips() {
    this.chips.replaceChildren(
      ...this.items().map((item) =>
        el(
          'li',
          { class: 'chip picked-chip' },
          el('span', {}, item.name),
          el('button', { type: 'button', class: 'icon-only', 'aria-label': this.removeLabel(item), onclick: () => this.#remove(item) }, icon('close')),
        ),
      ),
    );
    this.chips.hidden = this.#chosen.size === 0;
  }

  #drawOptions() {
    const base = this.listbox.id;
    this.listbox.replaceChildren(
      ...this.#matches.map((item, i) =>
        el('li', { id: `${base}-${i}`, role: 'option', 'data-index': i, 'aria-selected': String(this.#chosen.has(item.id)) }, this.option(item)),
      ),
    );
    this.#activate(this.#active < this.#matches.length ? this.#active : -1);
  }
}

/** A search's answer as a picker takes it: the connection's nodes and its total. */
export function matches(connection) {
  return { items: connection.edges.map((e) => e.node), total: connection.totalCount };
}

/** A picker of the namespace's groups, each shown with its number of contacts; options as contactPicker's. */
export function groupPicker(container, options = {}) {
  return new SearchPicker(container, {
    label: t('common.groups'),
    placeholder: t('picker.searchGroups'),
    chosenLabel: t('picker.chosenGroups'),
    search: async (text) => matches((await gql(PICK_GROUPS, { search: text || null })).groups),
    option: (g) => [g.name, el('span', { class: 'muted' }, ` (${g.contactCount})`)],
    empty: (text) => (text ? t('picker.noGroupMatches') : t('picker.noGroups')),
    failed: (err) => t('picker.groupsFailed', { error: err.message }),
    ...options,
  });
}

/**
 * A picker of the namespace's contacts; options replace SearchPicker's settings (the group dialog
 * gives its own search and option, to mark the contacts already in the group).
 */
export function contactPicker(container, options = {}) {
  return new SearchPicker(container, {
    label: t('common.contacts'),
    placeholder: t('picker.searchContacts'),
    chosenLabel: t('picker.chosenContacts'),
    search: async (text) => matches((await gql(PICK_CONTACTS, { search: text || null })).contacts),
    empty: (text) => (text ? t('contacts.noneMatch') : t('contacts.none')),
    failed: (err) => t('contacts.loadFailed', { error: err.message }),
    ...options,
  });
}
