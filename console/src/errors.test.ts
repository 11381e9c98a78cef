import { describe, expect, it } from "vitest";
import { ApiError, describeError, parseRetryAfter } from "./errors";

const error = (
  status: number,
  id: string,
  message: string,
  retryAfter: number | null = null,
): ApiError => new ApiError(status, id, message, retryAfter);

describe("error messages", () => {
  it("a 400 says what the server refused, naming the field", () => {
    expect(
      describeError(
        error(400, "bad_request", "name must not be empty"),
        "create",
      ),
    ).toBe(
      "Creating the key failed: the server refused the input (name must not be empty).",
    );
  });

  it("a 403 says the user is not allowed", () => {
    expect(
      describeError(
        error(
          403,
          "forbidden",
          "only the key's creator or a team owner may change it",
        ),
        "rename",
      ),
    ).toBe(
      "Renaming the key was refused: you are not allowed to do this (only the key's creator or a team owner may change it).",
    );
  });

  it("a 403 for a missing CSRF header says to reload", () => {
    expect(describeError(error(403, "csrf_required", "x"), "delete")).toMatch(
      /CSRF header\. Reload the page/,
    );
  });

  it("a 409 name mismatch says the typed name is no longer the key's name", () => {
    expect(
      describeError(
        error(
          409,
          "conflict",
          "confirm_name does not match the current name of api key 1",
        ),
        "regenerate",
      ),
    ).toMatch(
      /^Regenerating the secret failed: the name you typed is no longer the key's name/,
    );
  });

  it("another 409 shows the server's reason", () => {
    expect(
      describeError(
        error(409, "conflict", "Idempotency-Key was used for another request"),
        "create",
      ),
    ).toBe(
      "Creating the key failed because of a conflict (Idempotency-Key was used for another request).",
    );
  });

  it("a 429 says how long to wait, from Retry-After", () => {
    expect(
      describeError(error(429, "too_many_requests", "slow down", 7), "delete"),
    ).toBe(
      "Deleting the key was refused: too many requests. Wait 7 seconds and try again.",
    );
    expect(
      describeError(error(429, "too_many_requests", "", 1), "delete"),
    ).toMatch(/Wait 1 second and/);
  });

  it("a 429 without Retry-After asks for a moment", () => {
    expect(
      describeError(error(429, "too_many_requests", ""), "create"),
    ).toMatch(/Wait a moment/);
  });

  it("a 503 says nothing was changed and when to try again", () => {
    expect(
      describeError(
        error(503, "service_unavailable", "the event log is unavailable", 2),
        "create",
      ),
    ).toBe(
      "Creating the key failed: the key service is temporarily unavailable (the event log is unavailable). Nothing was changed. Try again in 2 seconds.",
    );
  });

  it("a 504 on a command says the outcome is unknown and the retry finds it out", () => {
    const text = describeError(
      error(504, "outcome_unknown", "whether it was written is unknown", 1),
      "regenerate",
    );
    expect(text).toMatch(
      /^Regenerating the secret: the key service could not confirm whether it was done/,
    );
    expect(text).toMatch(/never does it twice, and shows the new secret/);
  });

  it("no answer at all says a retry is safe", () => {
    expect(describeError(ApiError.network(), "regenerate")).toMatch(
      /could not be reached\. Try again: the server recognises a retry/,
    );
  });

  it("a 404 on a key says it no longer exists", () => {
    expect(describeError(error(404, "not_found", "api key x"), "delete")).toBe(
      "Deleting the key failed: the key no longer exists (it may have been deleted).",
    );
  });
});

describe("Retry-After", () => {
  it("reads seconds", () => {
    expect(parseRetryAfter("3")).toBe(3);
  });

  it("reads an HTTP date", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now)).toBe(5);
  });

  it("ignores what it cannot read", () => {
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter("soon")).toBeNull();
  });

  it("is taken from the response", () => {
    const e = ApiError.fromResponse(
      429,
      { id: "too_many_requests", message: "m" },
      "4",
    );
    expect(e.retryAfterSeconds).toBe(4);
    expect(e.id).toBe("too_many_requests");
  });
});
