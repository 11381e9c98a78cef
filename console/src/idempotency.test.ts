import { describe, expect, it } from "vitest";
import { ApiError } from "./errors";
import { IdempotencyKeys, randomUuid } from "./idempotency";

function keys(): IdempotencyKeys {
  let n = 0;
  return new IdempotencyKeys(() => `key-${String(++n)}`);
}

describe("Idempotency-Key of a window", () => {
  it("a retry after a 503 sends the same key", () => {
    const k = keys();
    const first = k.keyFor({ name: "a" });
    k.failed(new ApiError(503, "service_unavailable", "", 1));
    expect(k.keyFor({ name: "a" })).toBe(first);
  });

  it("a retry after a 504 (outcome unknown) sends the same key, to learn the outcome", () => {
    const k = keys();
    const first = k.keyFor({ name: "a" });
    k.failed(new ApiError(504, "outcome_unknown", "", 1));
    expect(k.keyFor({ name: "a" })).toBe(first);
  });

  it("a retry after no answer at all sends the same key", () => {
    const k = keys();
    const first = k.keyFor({ name: "a" });
    k.failed(ApiError.network());
    expect(k.keyFor({ name: "a" })).toBe(first);
  });

  it("a changed request gets a new key", () => {
    const k = keys();
    const first = k.keyFor({ name: "a" });
    k.failed(new ApiError(503, "service_unavailable", "", 1));
    expect(k.keyFor({ name: "b" })).not.toBe(first);
  });

  it("a retry after a definite refusal gets a new key", () => {
    const k = keys();
    const first = k.keyFor({ name: "a" });
    k.failed(new ApiError(409, "conflict", "", null));
    expect(k.keyFor({ name: "a" })).not.toBe(first);
  });

  it("the next command after a success gets a new key", () => {
    const k = keys();
    const first = k.keyFor({ name: "a" });
    k.succeeded();
    expect(k.keyFor({ name: "a" })).not.toBe(first);
  });

  it("keys are random version 4 UUIDs", () => {
    expect(randomUuid()).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
