// The searchable multi-select of the catalog in the create window: a search field and one
// checkbox per model, labelled with the model's and its provider's names. Filtering hides
// options but never changes what is selected.

import { el, textInput, uniqueId } from "./dom";
import { filterCatalog, type CatalogOption } from "./models";

export class ModelPicker {
  readonly element: HTMLFieldSetElement;
  readonly search: HTMLInputElement;
  private readonly selected = new Set<string>();
  private readonly items = new Map<string, HTMLLabelElement>();
  private readonly count: HTMLParagraphElement;
  private readonly noMatch: HTMLParagraphElement;

  constructor(
    private readonly options: CatalogOption[],
    private readonly onChange: () => void,
  ) {
    const searchId = uniqueId("model-search");
    const listId = uniqueId("model-list");
    const countId = uniqueId("model-count");
    this.search = textInput(searchId, {
      type: "search",
      "aria-controls": listId,
      "aria-describedby": countId,
    });
    this.search.addEventListener("input", () => {
      this.applyFilter();
    });
    this.search.addEventListener("keydown", (event) => {
      // Enter in the search field must not submit the window's form.
      if (event.key === "Enter") event.preventDefault();
    });
    this.count = el("p", {
      id: countId,
      class: "field-hint",
      "aria-live": "polite",
    });
    this.noMatch = el("p", { class: "field-hint" });
    this.noMatch.hidden = true;

    const list = el("div", { id: listId, class: "model-list" });
    for (const option of options) {
      const checkbox = el("input", { type: "checkbox", value: option.id });
      checkbox.addEventListener("change", () => {
        if (checkbox.checked) this.selected.add(option.id);
        else this.selected.delete(option.id);
        this.updateCount();
        this.onChange();
      });
      const item = el(
        "label",
        { class: "model-option" },
        checkbox,
        el("span", { class: "model-name" }, option.name),
        " ",
        el("span", { class: "model-provider" }, `(${option.provider})`),
      );
      this.items.set(option.id, item);
      list.append(item);
    }
    this.element = el(
      "fieldset",
      { class: "model-picker" },
      el("legend", { class: "sr-only" }, "Models"),
      el("label", { for: searchId, class: "field-label" }, "Search models"),
      this.search,
      this.count,
      list,
      this.noMatch,
    );
    this.updateCount();
  }

  // Selected model ids, in the order of the list.
  selectedIds(): string[] {
    return this.options.map((o) => o.id).filter((id) => this.selected.has(id));
  }

  private applyFilter(): void {
    const visible = new Set(
      filterCatalog(this.options, this.search.value).map((o) => o.id),
    );
    for (const [id, item] of this.items) item.hidden = !visible.has(id);
    this.noMatch.hidden = visible.size > 0;
    this.noMatch.textContent =
      visible.size > 0 ? "" : `No model matches “${this.search.value}”.`;
  }

  private updateCount(): void {
    const n = this.selected.size;
    this.count.textContent =
      n === 0
        ? "No model selected yet: choose at least one."
        : n === 1
          ? "1 model selected."
          : `${String(n)} models selected.`;
  }
}
