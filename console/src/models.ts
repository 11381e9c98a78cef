// How models are named on the page: provider names, the models cell of a key, and the
// searchable catalog in the create window.

import type { ApiKeyInfo, CatalogModel } from "./api";

export const BATCH_INFERENCE_ID = "batch-inference";
export const BATCH_INFERENCE_NAME = "Batch Inference";

const PROVIDER_NAMES: Record<string, string> = {
  openai: "OpenAI",
  anthropic: "Anthropic",
  digitalocean: "DigitalOcean",
};

export function providerName(ownedBy: string): string {
  const known = PROVIDER_NAMES[ownedBy.toLowerCase()];
  if (known !== undefined) return known;
  return ownedBy === ""
    ? ""
    : ownedBy.charAt(0).toUpperCase() + ownedBy.slice(1);
}

export interface ModelCell {
  // What the cell shows.
  summary: string;
  // Shown beside the summary ("Batch Inference" for batch keys).
  badges: string[];
  // Every model the key can call, as its tooltip lists them.
  tooltip: string[];
}

export function modelCell(
  key: Pick<ApiKeyInfo, "all_models" | "models" | "batch_inference">,
): ModelCell {
  const isBatchEntry = (id: string): boolean => id === BATCH_INFERENCE_ID;
  const callable = key.models.filter((m) => !isBatchEntry(m.id));
  const names = callable.map((m) => (m.name === "" ? m.id : m.name));
  const hasBatch =
    key.batch_inference || key.models.some((m) => isBatchEntry(m.id));
  const tooltip = hasBatch ? [...names, BATCH_INFERENCE_NAME] : names;
  let summary: string;
  if (key.all_models) {
    summary = "All models";
  } else if (names.length === 0) {
    summary = "No models";
  } else if (names.length <= 2) {
    summary = names.join(", ");
  } else {
    summary = `${names.slice(0, 2).join(", ")} +${String(names.length - 2)} more`;
  }
  return { summary, badges: hasBatch ? [BATCH_INFERENCE_NAME] : [], tooltip };
}

export interface CatalogOption {
  id: string;
  name: string;
  provider: string;
  label: string;
}

// The catalog as the multi-select lists it: by provider, then by name.
export function catalogOptions(catalog: CatalogModel[]): CatalogOption[] {
  return catalog
    .map((m) => {
      const name = m.name ?? m.id;
      const provider = providerName(m.owned_by);
      return { id: m.id, name, provider, label: `${name} (${provider})` };
    })
    .sort(
      (a, b) =>
        a.provider.localeCompare(b.provider) || a.name.localeCompare(b.name),
    );
}

// Options whose name, provider or id contain every word of the query (case-insensitive).
export function filterCatalog(
  options: CatalogOption[],
  query: string,
): CatalogOption[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return options;
  return options.filter((o) => {
    const haystack = `${o.name} ${o.provider} ${o.id}`.toLowerCase();
    return words.every((w) => haystack.includes(w));
  });
}
