// The key views as tabs (My keys, Legacy keys and, for owners, Team's keys). Each tab is
// reachable with Tab and activated by click, Enter or Space; Left/Right, Home and End move
// between tabs and select them.

import type { KeyView } from "./api";
import { el, uniqueId } from "./dom";
import type { TabSpec } from "./rules";

export class Tabs {
  readonly list: HTMLDivElement;
  readonly panel: HTMLDivElement;
  private readonly tabs = new Map<KeyView, HTMLButtonElement>();
  private current: KeyView;

  constructor(
    private readonly specs: TabSpec[],
    selected: KeyView,
    private readonly onSelect: (view: KeyView) => void,
  ) {
    const panelId = uniqueId("tabpanel");
    this.current = selected;
    this.list = el("div", {
      role: "tablist",
      "aria-label": "Key views",
      class: "tabs",
    });
    for (const spec of specs) {
      const tab = el(
        "button",
        {
          type: "button",
          role: "tab",
          id: uniqueId(`tab-${spec.view}`),
          "aria-controls": panelId,
          class: "tab",
        },
        spec.label,
      );
      tab.addEventListener("click", () => {
        this.select(spec.view, true);
      });
      tab.addEventListener("keydown", (event) => {
        this.onKey(event, spec.view);
      });
      this.tabs.set(spec.view, tab);
      this.list.append(tab);
    }
    this.panel = el("div", {
      role: "tabpanel",
      id: panelId,
      class: "tabpanel",
    });
    this.mark();
  }

  get selected(): KeyView {
    return this.current;
  }

  tab(view: KeyView): HTMLButtonElement | null {
    return this.tabs.get(view) ?? null;
  }

  // Selects a view; `notify` tells the page to show it.
  select(view: KeyView, notify: boolean): void {
    if (!this.tabs.has(view)) return;
    this.current = view;
    this.mark();
    if (notify) this.onSelect(view);
  }

  private mark(): void {
    for (const [view, tab] of this.tabs) {
      const selected = view === this.current;
      tab.setAttribute("aria-selected", selected ? "true" : "false");
      tab.classList.toggle("tab-selected", selected);
      if (selected) this.panel.setAttribute("aria-labelledby", tab.id);
    }
  }

  private onKey(event: KeyboardEvent, view: KeyView): void {
    const views = this.specs.map((s) => s.view);
    const index = views.indexOf(view);
    let next: KeyView | undefined;
    if (event.key === "ArrowRight") next = views[(index + 1) % views.length];
    else if (event.key === "ArrowLeft")
      next = views[(index - 1 + views.length) % views.length];
    else if (event.key === "Home") next = views[0];
    else if (event.key === "End") next = views[views.length - 1];
    if (next === undefined) return;
    event.preventDefault();
    this.tabs.get(next)?.focus();
    this.select(next, true);
  }
}
