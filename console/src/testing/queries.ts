// Finding elements in the unit tests the way a user does: by label, by role and name.

function accessibleName(element: Element): string {
  const label = element.getAttribute("aria-label");
  if (label !== null) return label;
  const labelledBy = element.getAttribute("aria-labelledby");
  if (labelledBy !== null) {
    return labelledBy
      .split(" ")
      .map((id) => document.getElementById(id)?.textContent ?? "")
      .join(" ")
      .trim();
  }
  if (element.id !== "") {
    const forLabel = document.querySelector(`label[for="${element.id}"]`);
    if (forLabel) return forLabel.textContent.trim();
  }
  const wrapping = element.closest("label");
  if (wrapping) return wrapping.textContent.replace(/\s+/g, " ").trim();
  return element.textContent.replace(/\s+/g, " ").trim();
}

const IMPLICIT: Record<string, string> = {
  button: "button",
  a: "link",
  table: "table",
  tr: "row",
  nav: "navigation",
};

function role(element: Element): string | null {
  const explicit = element.getAttribute("role");
  if (explicit !== null) return explicit;
  if (element instanceof HTMLInputElement) {
    if (element.type === "checkbox") return "checkbox";
    if (element.type === "radio") return "radio";
    if (element.type === "search") return "searchbox";
    return "textbox";
  }
  if (element instanceof HTMLSelectElement) return "combobox";
  return IMPLICIT[element.tagName.toLowerCase()] ?? null;
}

function hiddenFromUser(element: Element): boolean {
  return element.closest("[hidden]") !== null;
}

export function allByRole(
  roleName: string,
  name?: string | RegExp,
  root: ParentNode = document,
): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>("*")].filter((e) => {
    if (role(e) !== roleName || hiddenFromUser(e)) return false;
    if (name === undefined) return true;
    const n = accessibleName(e);
    return typeof name === "string" ? n === name : name.test(n);
  });
}

export function byRole(
  roleName: string,
  name?: string | RegExp,
  root: ParentNode = document,
): HTMLElement {
  const found = allByRole(roleName, name, root);
  const [only] = found;
  if (found.length !== 1 || only === undefined) {
    throw new Error(
      `expected one ${roleName} named ${String(name)}, found ${String(found.length)}`,
    );
  }
  return only;
}

export function queryByRole(
  roleName: string,
  name?: string | RegExp,
  root: ParentNode = document,
): HTMLElement | null {
  return allByRole(roleName, name, root)[0] ?? null;
}

function asButton(element: Element): HTMLButtonElement {
  if (!(element instanceof HTMLButtonElement)) throw new Error("not a button");
  return element;
}

function asInput(element: Element): HTMLInputElement {
  if (!(element instanceof HTMLInputElement)) throw new Error("not an input");
  return element;
}

export function buttonByName(name: string | RegExp): HTMLButtonElement {
  return asButton(byRole("button", name));
}

export function inputByRole(
  roleName: string,
  name: string | RegExp,
): HTMLInputElement {
  return asInput(byRole(roleName, name));
}

function controlByLabel(text: string): Element {
  const label = [...document.querySelectorAll("label")].find(
    (l) => l.textContent.trim() === text && !hiddenFromUser(l),
  );
  if (!label) throw new Error(`no label ${text}`);
  const control = label.htmlFor
    ? document.getElementById(label.htmlFor)
    : label.querySelector("input, select, textarea");
  if (!control) throw new Error(`label ${text} has no control`);
  return control;
}

export function byLabel(text: string): HTMLInputElement {
  return asInput(controlByLabel(text));
}

export function selectByLabel(text: string): HTMLSelectElement {
  const control = controlByLabel(text);
  if (!(control instanceof HTMLSelectElement)) throw new Error("not a select");
  return control;
}

export function type(input: Element, text: string): void {
  const field = asInput(input);
  field.value = text;
  field.dispatchEvent(new Event("input", { bubbles: true }));
}

export function choose(input: Element): void {
  const field = asInput(input);
  field.checked = !field.checked || field.type === "radio";
  field.dispatchEvent(new Event("change", { bubbles: true }));
}

export function press(target: Element, key: string, shiftKey = false): void {
  target.dispatchEvent(
    new KeyboardEvent("keydown", {
      key,
      shiftKey,
      bubbles: true,
      cancelable: true,
    }),
  );
}

export function click(element: HTMLElement): void {
  element.click();
}

// Submits a form by its submit button, as a click does in a browser.
export function submit(element: Element): void {
  const submitter = asButton(element);
  if (submitter.disabled) throw new Error("the button is disabled");
  submitter.form?.requestSubmit(submitter);
}
