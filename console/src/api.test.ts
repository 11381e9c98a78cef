import { describe, expect, it } from "vitest";
import { HttpConsoleApi, type FetchFunction } from "./api";
import { ApiError } from "./errors";
import { applied, makeKey, receiptOf, silent } from "./testing/fake_api";

interface Sent {
  url: string;
  init: RequestInit;
}

function fakeFetch(answer: (sent: Sent) => Response): {
  fetch: FetchFunction;
  sent: Sent[];
} {
  const sent: Sent[] = [];
  return {
    sent,
    fetch: (url, init) => {
      sent.push({ url, init });
      return Promise.resolve(answer({ url, init }));
    },
  };
}

const json = (
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });

function header(init: RequestInit, name: string): string | undefined {
  return (init.headers as Record<string, string>)[name];
}

describe("requests to the API", () => {
  it("reads sends the session cookie but no CSRF header", async () => {
    const f = fakeFetch(() =>
      json(200, {
        api_key_infos: [],
        links: { pages: {} },
        meta: { total: 0 },
      }),
    );
    await new HttpConsoleApi(f.fetch).listKeys("legacy", 2, 20);
    const [request] = f.sent;
    expect(request?.url).toBe(
      "/v2/gen-ai/models/api_keys?view=legacy&page=2&per_page=20",
    );
    expect(request?.init.credentials).toBe("same-origin");
    expect(request?.init.method).toBe("GET");
    expect(header(request?.init ?? {}, "X-Keyledger-Csrf")).toBeUndefined();
  });

  it("every unsafe request carries the CSRF header", async () => {
    const key = makeKey();
    const f = fakeFetch(({ init }) =>
      init.method === "DELETE" || init.method === "PUT"
        ? json(200, { api_key_info: { ...key, secret_key: "sk-do-v1-x" } })
        : init.method === "POST" &&
            typeof init.body === "string" &&
            init.body.includes("user_id")
          ? new Response(null, { status: 204 })
          : json(201, { api_key_info: { ...key, secret_key: "sk-do-v1-x" } }),
    );
    const api = new HttpConsoleApi(f.fetch);
    await api.createKey({ name: "a", all_models: true }, "idem-1");
    await api.renameKey(key.uuid, "b", "idem-2");
    await api.regenerateKey(key.uuid, "b", "idem-3");
    await api.deleteKey(key.uuid, "b", "idem-4");
    await api.devSignIn("user-olga");
    expect(f.sent.map((s) => s.init.method)).toEqual([
      "POST",
      "PUT",
      "PUT",
      "DELETE",
      "POST",
    ]);
    for (const s of f.sent) {
      expect(header(s.init, "X-Keyledger-Csrf")).toBe("1");
      expect(s.init.credentials).toBe("same-origin");
    }
  });

  it("create, regenerate and delete send their Idempotency-Key", async () => {
    const key = makeKey();
    const f = fakeFetch(() =>
      json(200, { api_key_info: { ...key, secret_key: "sk-do-v1-x" } }),
    );
    const api = new HttpConsoleApi(f.fetch);
    await api.createKey({ name: "a", all_models: true }, "idem-c");
    await api.regenerateKey(key.uuid, key.name, "idem-r");
    await api.deleteKey(key.uuid, key.name, "idem-d");
    expect(f.sent.map((s) => header(s.init, "Idempotency-Key"))).toEqual([
      "idem-c",
      "idem-r",
      "idem-d",
    ]);
  });

  it("regenerate and delete confirm with the name in the body", async () => {
    const key = makeKey({ name: "prod key" });
    const f = fakeFetch(() => json(200, { api_key_info: key }));
    const api = new HttpConsoleApi(f.fetch);
    await api.regenerateKey(key.uuid, "prod key", "i1").catch(() => undefined);
    await api.deleteKey(key.uuid, "prod key", "i2");
    expect(f.sent[0]?.url).toBe(
      `/v2/gen-ai/models/api_keys/${key.uuid}/regenerate`,
    );
    expect(f.sent[0]?.init.body).toBe(
      JSON.stringify({ confirm_name: "prod key" }),
    );
    expect(f.sent[1]?.url).toBe(`/v2/gen-ai/models/api_keys/${key.uuid}`);
    expect(f.sent[1]?.init.body).toBe(
      JSON.stringify({ confirm_name: "prod key" }),
    );
  });

  it("the new secret travels apart from the key, which never holds it", async () => {
    const key = makeKey();
    const f = fakeFetch(() =>
      json(201, { api_key_info: { ...key, secret_key: "sk-do-v1-abc" } }),
    );
    const result = await new HttpConsoleApi(f.fetch).createKey(
      { name: "a", all_models: true },
      "i",
    );
    expect(result.secret).toBe("sk-do-v1-abc");
    expect(JSON.stringify(result.key)).not.toContain("sk-do-v1-abc");
    expect("secret_key" in result.key).toBe(false);
  });

  it("sends expires_at with the create body, and reads the key's expiry and last use", async () => {
    const key = makeKey({
      expires_at: "2026-04-04T12:00:00.886000Z",
      last_used_at: "2026-03-05T11:55:00Z",
    });
    const f = fakeFetch(() =>
      json(201, { api_key_info: { ...key, secret_key: "sk-do-v1-abc" } }),
    );
    const result = await new HttpConsoleApi(f.fetch).createKey(
      { name: "a", all_models: true, expires_at: "2026-04-04T12:00:00.886Z" },
      "i",
    );
    expect(f.sent[0]?.init.body).toBe(
      JSON.stringify({
        name: "a",
        all_models: true,
        expires_at: "2026-04-04T12:00:00.886Z",
      }),
    );
    expect(result.key).toMatchObject({
      expires_at: "2026-04-04T12:00:00.886000Z",
      expired: false,
      last_used_at: "2026-03-05T11:55:00Z",
    });
  });

  it("a key from a server without expiry and usage never expires and was never used", async () => {
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { expires_at, expired, last_used_at, ...older } = makeKey();
    const f = fakeFetch(() =>
      json(200, { api_key_infos: [older], meta: { total: 1 } }),
    );
    const page = await new HttpConsoleApi(f.fetch).listKeys("mine", 1, 20);
    expect(page.keys[0]).toMatchObject({
      expires_at: null,
      expired: false,
      last_used_at: null,
    });
  });

  it("an idempotent replay has no secret", async () => {
    const key = makeKey();
    const f = fakeFetch(() =>
      json(201, { api_key_info: key, idempotent_replay: true }),
    );
    const result = await new HttpConsoleApi(f.fetch).createKey(
      { name: "a", all_models: true },
      "i",
    );
    expect(result).toMatchObject({ secret: null, replayed: true });
  });

  it("an error answer becomes an ApiError with the server's id, message and wait", async () => {
    const f = fakeFetch(() =>
      json(
        429,
        { id: "too_many_requests", message: "slow down" },
        { "Retry-After": "3" },
      ),
    );
    const failure = await new HttpConsoleApi(f.fetch)
      .deleteKey("u", "n", "i")
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({
      status: 429,
      id: "too_many_requests",
      serverMessage: "slow down",
      retryAfterSeconds: 3,
    });
  });

  it("no answer becomes a network ApiError", async () => {
    const api = new HttpConsoleApi(() =>
      Promise.reject(new TypeError("Failed to fetch")),
    );
    await expect(api.me()).rejects.toMatchObject({ status: 0 });
  });

  it("regenerate and delete hand over the revocation receipt, null when the server sent none", async () => {
    const key = makeKey();
    const receipt = receiptOf([
      applied("replica-1", 19),
      silent("replica-3", 3033),
    ]);
    let withReceipt = true;
    const f = fakeFetch(() =>
      json(
        200,
        withReceipt
          ? { api_key_info: key, revocation: receipt }
          : { api_key_info: key },
      ),
    );
    const api = new HttpConsoleApi(f.fetch);
    expect(
      (await api.regenerateKey(key.uuid, key.name, "i1")).revocation,
    ).toEqual(receipt);
    const deleted = await api.deleteKey(key.uuid, key.name, "i2");
    expect(deleted.revocation).toEqual(receipt);
    expect(deleted.secret).toBeNull();
    withReceipt = false;
    expect(
      (await api.deleteKey(key.uuid, key.name, "i3")).revocation,
    ).toBeNull();
  });

  it("the receipt is a GET with the session cookie, no CSRF header, and wait of 0 to 30 s", async () => {
    const receipt = receiptOf([applied("replica-1", 7)]);
    const f = fakeFetch(() =>
      json(200, {
        api_key_uuid: "k",
        event_type: "key_deleted",
        occurred_at: "2026-01-01T00:00:00Z",
        revocation: receipt,
      }),
    );
    const api = new HttpConsoleApi(f.fetch);
    const cancel = new AbortController();
    expect(await api.revocation(receipt.href, 2, cancel.signal)).toEqual(
      receipt,
    );
    await api.revocation("/v2/gen-ai/revocations/3/17", 99);
    await api.revocation("/v2/gen-ai/revocations/3/17", -1);
    expect(f.sent.map((s) => s.url)).toEqual([
      "/v2/gen-ai/revocations/0/4?wait=2",
      "/v2/gen-ai/revocations/3/17?wait=30",
      "/v2/gen-ai/revocations/3/17?wait=0",
    ]);
    // Nothing but the server's own receipt addresses is followed.
    for (const href of [
      "https://evil.example/x",
      "/v2/gen-ai/revocations/0/4?x=1",
      "/v2/gen-ai/models/api_keys/k",
    ]) {
      await expect(api.revocation(href, 2)).rejects.toMatchObject({
        status: 502,
      });
    }
    expect(f.sent).toHaveLength(3);
    const [first] = f.sent;
    expect(first?.init.method).toBe("GET");
    expect(first?.init.credentials).toBe("same-origin");
    expect(header(first?.init ?? {}, "X-Keyledger-Csrf")).toBeUndefined();
    expect(first?.init.signal?.aborted).toBe(false);
    cancel.abort();
    expect(first?.init.signal?.aborted).toBe(true);
  });

  it("a receipt request that is cancelled or refused rejects with an ApiError", async () => {
    const cancelled = new HttpConsoleApi(() =>
      Promise.reject(new DOMException("aborted", "AbortError")),
    );
    await expect(
      cancelled.revocation("/v2/gen-ai/revocations/0/4", 2),
    ).rejects.toMatchObject({
      status: 0,
    });
    const refused = new HttpConsoleApi(
      fakeFetch(() => json(404, { id: "not_found", message: "no view" })).fetch,
    );
    await expect(
      refused.revocation("/v2/gen-ai/revocations/0/4", 2),
    ).rejects.toMatchObject({
      status: 404,
    });
  });

  it("dev sign-in that is switched off answers null", async () => {
    const f = fakeFetch(() => json(404, { id: "not_found", message: "no" }));
    expect(await new HttpConsoleApi(f.fetch).devSignInUsers()).toBeNull();
  });
});
