import { describe, expect, it } from "vitest";
import {
  catalogOptions,
  filterCatalog,
  modelCell,
  providerName,
} from "./models";
import { CATALOG, makeKey } from "./testing/fake_api";

const gpt = { id: "openai-gpt-4o", name: "GPT-4o", owned_by: "openai" };
const haiku = {
  id: "anthropic-claude-3.5-haiku",
  name: "Claude 3.5 Haiku",
  owned_by: "anthropic",
};
const qwen = {
  id: "alibaba-qwen3-32b",
  name: "Qwen3 32B",
  owned_by: "digitalocean",
};
const batch = {
  id: "batch-inference",
  name: "Batch Inference",
  owned_by: "platform",
};

describe("the models cell", () => {
  it("an all-models key says All models and lists every model on hover", () => {
    const cell = modelCell(
      makeKey({ all_models: true, models: [gpt, haiku, qwen] }),
    );
    expect(cell.summary).toBe("All models");
    expect(cell.badges).toEqual([]);
    expect(cell.tooltip).toEqual(["GPT-4o", "Claude 3.5 Haiku", "Qwen3 32B"]);
  });

  it("a key with batch enabled shows Batch Inference", () => {
    const cell = modelCell(
      makeKey({
        all_models: true,
        batch_inference: true,
        models: [gpt, haiku, batch],
      }),
    );
    expect(cell.summary).toBe("All models");
    expect(cell.badges).toEqual(["Batch Inference"]);
    expect(cell.tooltip).toEqual([
      "GPT-4o",
      "Claude 3.5 Haiku",
      "Batch Inference",
    ]);
  });

  it("shows Batch Inference once even when the flag and the entry are both there", () => {
    const cell = modelCell(
      makeKey({
        all_models: true,
        batch_inference: true,
        models: [gpt, batch],
      }),
    );
    expect(cell.tooltip.filter((n) => n === "Batch Inference")).toHaveLength(1);
  });

  it("a key scoped to two models names both", () => {
    const cell = modelCell(
      makeKey({ all_models: false, models: [gpt, haiku] }),
    );
    expect(cell.summary).toBe("GPT-4o, Claude 3.5 Haiku");
  });

  it("a key scoped to more models names two and counts the rest", () => {
    const cell = modelCell(
      makeKey({ all_models: false, models: [gpt, haiku, qwen] }),
    );
    expect(cell.summary).toBe("GPT-4o, Claude 3.5 Haiku +1 more");
    expect(cell.tooltip).toHaveLength(3);
  });
});

describe("provider names", () => {
  it("shows the platform's providers by their names", () => {
    expect(providerName("openai")).toBe("OpenAI");
    expect(providerName("anthropic")).toBe("Anthropic");
    expect(providerName("digitalocean")).toBe("DigitalOcean");
  });

  it("capitalises other providers", () => {
    expect(providerName("mistral")).toBe("Mistral");
  });
});

describe("the model picker's search", () => {
  const options = catalogOptions(CATALOG);

  it("lists each model with its provider, grouped by provider", () => {
    expect(options.map((o) => o.label)).toEqual([
      "Claude 3.5 Haiku (Anthropic)",
      "Qwen3 32B (DigitalOcean)",
      "GPT-4o (OpenAI)",
    ]);
  });

  it("finds models by name or provider, ignoring case", () => {
    expect(filterCatalog(options, "gpt").map((o) => o.id)).toEqual([
      "openai-gpt-4o",
    ]);
    expect(filterCatalog(options, "ANTHROPIC").map((o) => o.id)).toEqual([
      "anthropic-claude-3.5-haiku",
    ]);
    expect(filterCatalog(options, "")).toHaveLength(3);
    expect(filterCatalog(options, "nothing like this")).toHaveLength(0);
  });
});
