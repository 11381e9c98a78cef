// The "…" menu of a key's row: Rename, Regenerate, Delete. A menu button (aria-haspopup=menu)
// that opens on click, Enter, Space or ArrowDown; arrows, Home and End move between the items,
// Tab moves through them too, Escape closes it and returns focus to the button.

import type { ApiKeyInfo } from "./api";
import { el, uniqueId } from "./dom";

export type KeyAction = "rename" | "regenerate" | "delete";

const ITEMS: { action: KeyAction; label: string }[] = [
  { action: "rename", label: "Rename" },
  { action: "regenerate", label: "Regenerate" },
  { action: "delete", label: "Delete" },
];

export function menuFocusKey(uuid: string): string {
  return `menu:${uuid}`;
}

export class RowMenu {
  // At most one menu is open on the page.
  private static openMenu: RowMenu | null = null;

  readonly element: HTMLDivElement;
  readonly trigger: HTMLButtonElement;
  private readonly menu: HTMLDivElement;
  private readonly items: HTMLButtonElement[];

  private readonly onDocumentClick = (event: MouseEvent): void => {
    if (event.target instanceof Node && !this.element.contains(event.target))
      this.close(false);
  };

  constructor(
    key: Pick<ApiKeyInfo, "uuid" | "name">,
    onAction: (action: KeyAction, opener: HTMLButtonElement) => void,
  ) {
    const menuId = uniqueId("row-menu");
    const label = `Actions for ${key.name}`;
    this.trigger = el(
      "button",
      {
        type: "button",
        class: "menu-button",
        "aria-haspopup": "menu",
        "aria-expanded": "false",
        "aria-controls": menuId,
        "aria-label": label,
        "data-focus-key": menuFocusKey(key.uuid),
      },
      "…",
    );
    this.items = ITEMS.map(({ action, label: itemLabel }) => {
      const item = el(
        "button",
        {
          type: "button",
          role: "menuitem",
          class:
            action === "delete" ? "menu-item menu-item-danger" : "menu-item",
        },
        itemLabel,
      );
      item.addEventListener("click", () => {
        this.close(true);
        onAction(action, this.trigger);
      });
      return item;
    });
    this.menu = el(
      "div",
      { role: "menu", id: menuId, "aria-label": label, class: "menu" },
      this.items,
    );
    this.menu.hidden = true;
    this.element = el("div", { class: "row-menu" }, this.trigger, this.menu);

    this.trigger.addEventListener("click", () => {
      if (this.isOpen) this.close(true);
      else this.open(0);
    });
    this.trigger.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown") {
        event.preventDefault();
        this.open(0);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        this.open(this.items.length - 1);
      }
    });
    this.menu.addEventListener("keydown", (event) => {
      this.onMenuKey(event);
    });
    this.element.addEventListener("focusout", (event) => {
      const next = event.relatedTarget;
      if (this.isOpen && !(next instanceof Node && this.element.contains(next)))
        this.close(false);
    });
  }

  get isOpen(): boolean {
    return !this.menu.hidden;
  }

  open(focusIndex: number): void {
    const previous = RowMenu.openMenu;
    if (previous && previous !== this) previous.close(false);
    RowMenu.openMenu = this;
    this.menu.hidden = false;
    this.trigger.setAttribute("aria-expanded", "true");
    document.addEventListener("click", this.onDocumentClick, true);
    this.items[focusIndex]?.focus();
  }

  close(returnFocus: boolean): void {
    if (RowMenu.openMenu === this) RowMenu.openMenu = null;
    if (this.menu.hidden) return;
    this.menu.hidden = true;
    this.trigger.setAttribute("aria-expanded", "false");
    document.removeEventListener("click", this.onDocumentClick, true);
    if (returnFocus) this.trigger.focus();
  }

  private onMenuKey(event: KeyboardEvent): void {
    const index = this.items.findIndex((i) => i === document.activeElement);
    const focusAt = (i: number): void => {
      const n = this.items.length;
      this.items[(i + n) % n]?.focus();
    };
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        focusAt(index + 1);
        break;
      case "ArrowUp":
        event.preventDefault();
        focusAt(index - 1);
        break;
      case "Home":
        event.preventDefault();
        focusAt(0);
        break;
      case "End":
        event.preventDefault();
        focusAt(this.items.length - 1);
        break;
      case "Escape":
        event.preventDefault();
        event.stopPropagation();
        this.close(true);
        break;
      default:
        break;
    }
  }
}
