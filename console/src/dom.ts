// Building DOM nodes without HTML strings: text is always set as text, so a key name can never
// become markup, and no inline style or script can appear (the server's CSP forbids both).

export type AttributeValue = string | number | boolean | null | undefined;
export type Attributes = Record<string, AttributeValue>;
export type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  setAttributes(element, attributes);
  append(element, ...children);
  return element;
}

export function setAttributes(element: Element, attributes: Attributes): void {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) {
      element.removeAttribute(name);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
}

export function append(parent: Node, ...children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(
      typeof child === "string" ? document.createTextNode(child) : child,
    );
  }
}

export function replaceChildren(
  parent: Element,
  ...children: (Child | Child[])[]
): void {
  parent.replaceChildren();
  append(parent, ...children);
}

let lastId = 0;

// A document-unique id for label/description wiring.
export function uniqueId(prefix: string): string {
  lastId += 1;
  return `${prefix}-${String(lastId)}`;
}

// A one-line text field that the browser neither corrects nor fills in.
export function textInput(
  id: string,
  attributes: Attributes = {},
): HTMLInputElement {
  return el("input", {
    id,
    type: "text",
    class: "text-input",
    autocomplete: "off",
    spellcheck: "false",
    ...attributes,
  });
}

export function button(
  label: string | Child[],
  onClick: (event: MouseEvent) => void,
  attributes: Attributes = {},
): HTMLButtonElement {
  const b = el("button", { type: "button", ...attributes }, label);
  b.addEventListener("click", onClick);
  return b;
}

// Visible only to assistive technology.
export function screenReaderText(text: string): HTMLSpanElement {
  return el("span", { class: "sr-only" }, text);
}

// An element that is focused, by data-focus-key, after the page re-renders a part of itself.
export function findByFocusKey(
  root: ParentNode,
  focusKey: string,
): HTMLElement | null {
  for (const candidate of root.querySelectorAll<HTMLElement>(
    "[data-focus-key]",
  )) {
    if (candidate.dataset["focusKey"] === focusKey) return candidate;
  }
  return null;
}

const FOCUSABLE =
  'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])';

// The elements of `root` that Tab can reach, in document order.
export function tabbableElements(root: ParentNode): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
    (element) =>
      !element.hasAttribute("disabled") &&
      element.getAttribute("tabindex") !== "-1" &&
      !element.closest("[hidden], [inert]") &&
      isRendered(element),
  );
}

function isRendered(element: HTMLElement): boolean {
  // jsdom has no layout; a browser reports no client rects for display:none.
  if (typeof element.getClientRects !== "function") return true;
  const view = element.ownerDocument.defaultView;
  if (view && view.navigator.userAgent.includes("jsdom")) return true;
  return element.getClientRects().length > 0;
}
