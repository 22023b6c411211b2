/** The page's elements, made and found: text goes in with textContent only. */

/** The element `id` names; page.ts renders every one the script uses. */
export function byId<T extends HTMLElement>(id: string, type: { new (): T; prototype: T }): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return element;
}

export function $(id: string): HTMLElement {
  return byId(id, HTMLElement);
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/** The one child of `parent` matching `selector`, made by the script itself. */
export function part(parent: ParentNode, selector: string): HTMLElement {
  const found = parent.querySelector(selector);
  if (!(found instanceof HTMLElement)) throw new Error(`no ${selector} in its row`);
  return found;
}

export function clock(): string {
  return new Date().toLocaleTimeString([], { hour12: false });
}

/** The page's one status line, read out by screen readers: said sparingly. */
export function announce(text: string): void {
  $('status').textContent = `${clock()} · ${text}`;
}

/** A dot in the instance's colour; the colour itself says nothing to assistive technology. */
export function swatch(hue?: number): HTMLSpanElement {
  const dot = el('span', 'swatch');
  dot.setAttribute('aria-hidden', 'true');
  if (typeof hue === 'number') dot.style.setProperty('--hue', String(hue));
  return dot;
}

export type Level = '' | 'ok' | 'warn' | 'bad';

/** One of the "what is behind it" lines: a coloured dot, then the words. */
export function statusLine(id: string, level: Level, text: string): void {
  const dot = el('span', `dot ${level}`);
  dot.setAttribute('aria-hidden', 'true');
  $(id).replaceChildren(dot, document.createTextNode(text));
}
