/** The few DOM helpers the page needs (no framework). */

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from index.html`);
  return node as T;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string; attrs?: Record<string, string> } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

const TOAST_MS = 8000;
const MAX_TOASTS = 3;

/**
 * Shows a problem once, as a toast: the same text while it is still on screen only restarts its
 * timer, so a failure reported twice (e.g. by a retry) is not listed twice.
 */
export function toast(container: HTMLElement, text: string, kind: 'error' | 'info' = 'error'): void {
  const existing = Array.from(container.querySelectorAll<HTMLElement>('.toast')).find((node) => node.dataset.text === text);
  const node =
    existing ??
    h(
      'div',
      { className: `toast ${kind}`, attrs: { role: kind === 'error' ? 'alert' : 'status', 'data-text': text } },
      h('p', { text }),
      h('button', { className: 'dismiss', text: '\u00d7', attrs: { type: 'button', 'aria-label': 'Dismiss' } }),
    );
  if (!existing) {
    node.querySelector('button')?.addEventListener('click', () => node.remove());
    container.append(node);
    while (container.childElementCount > MAX_TOASTS) container.firstElementChild?.remove();
  }
  clearTimeout(Number(node.dataset.timer));
  node.dataset.timer = String(setTimeout(() => node.remove(), TOAST_MS));
}
