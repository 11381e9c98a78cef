import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ConsoleApi, RevocationReceipt } from "./api";
import { ApiError } from "./errors";
import {
  GIVE_UP_AFTER_MS,
  RevocationStatus,
  laggingValidators,
  receiptHeadline,
  type RevocationStatusOptions,
} from "./revocation";
import {
  FakeApi,
  applied,
  behind,
  receiptOf,
  settle,
  silent,
} from "./testing/fake_api";
import { byRole } from "./testing/queries";

const complete = receiptOf([
  applied("replica-1", 19),
  applied("replica-2", 21),
  applied("replica-3", 7),
]);
const partial = receiptOf([
  applied("replica-1", 19),
  behind("replica-2"),
  silent("replica-3", 3033),
]);
const twoOfThree = receiptOf([
  applied("replica-1", 19),
  applied("replica-2", 21),
  silent("replica-3", 5012),
]);
const nobody = receiptOf([]);

let statuses: RevocationStatus[] = [];

function show(
  receipt: RevocationReceipt | null,
  api: Pick<ConsoleApi, "revocation"> = new FakeApi(),
  extra: Partial<RevocationStatusOptions> = {},
): RevocationStatus {
  const status = new RevocationStatus({ api, receipt, ...extra });
  document.body.append(status.element);
  statuses.push(status);
  status.start();
  return status;
}

function line(): string {
  return byRole("status").textContent;
}

function lagging(): string[] {
  const list = document.querySelector("ul.revocation-lagging");
  if (!(list instanceof HTMLUListElement) || list.hidden) return [];
  return [...list.querySelectorAll("li")].map((li) => li.textContent);
}

// Runs the timers (and the promise callbacks they start) for `ms`.
async function wait(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await settle();
}

beforeEach(() => {
  document.body.replaceChildren();
  statuses = [];
  vi.useFakeTimers();
});

afterEach(() => {
  for (const status of statuses) status.stop();
  vi.useRealTimers();
});

describe("the receipt's words", () => {
  it("complete: every validator, and the time the slowest took", () => {
    expect(receiptHeadline(complete)).toBe(
      "Old secret denied on 3 of 3 validators in 21 ms",
    );
    expect(laggingValidators(complete)).toEqual([]);
  });

  it("complete without a time from every validator says no time", () => {
    const noTime = receiptOf([applied("replica-1", 19), applied("replica-2")]);
    expect(receiptHeadline(noTime)).toBe(
      "Old secret denied on 2 of 2 validators",
    );
  });

  it("a second or more is said in seconds", () => {
    expect(receiptHeadline(receiptOf([applied("replica-1", 1234)]))).toBe(
      "Old secret denied on 1 of 1 validators in 1.2 s",
    );
  });

  it("partial: names every validator that is behind or silent", () => {
    expect(receiptHeadline(partial)).toBe(
      "Old secret denied on 1 of 3 validators",
    );
    expect(laggingValidators(partial)).toEqual([
      "replica-2: behind",
      "replica-3: silent, last heard 3.0 s ago",
    ]);
  });

  it("no validator heard from is not 0 of 0", () => {
    expect(receiptHeadline(nobody)).toBe("No validators have reported yet");
    expect(receiptHeadline({ ...nobody, complete: true, summary: "" })).toBe(
      "No validators have reported yet",
    );
  });
});

describe("the receipt line", () => {
  it("is a polite live region; a complete receipt is shown as done and asks nothing", async () => {
    const api = new FakeApi();
    const status = show(complete, api);
    const region = byRole("status");
    expect(region.getAttribute("aria-live")).toBe("polite");
    expect(line()).toBe("✓ Old secret denied on 3 of 3 validators in 21 ms");
    expect(status.element.classList.contains("revocation-done")).toBe(true);
    expect(lagging()).toEqual([]);
    await wait(10_000);
    expect(api.callsOf("revocation")).toEqual([]);
  });

  it("partial: the headline, what it is doing, and the validators not there yet", () => {
    const api = new FakeApi();
    api.revocationAnswers = [partial];
    show(partial, api);
    expect(line()).toBe(
      "Old secret denied on 1 of 3 validators" +
        "Updating as the validators report.",
    );
    expect(lagging()).toEqual([
      "replica-2: behind",
      "replica-3: silent, last heard 3.0 s ago",
    ]);
  });

  it("zero replicas: says none has reported yet and keeps asking", async () => {
    const api = new FakeApi();
    api.revocationAnswers = [nobody];
    show(nobody, api);
    expect(line()).toContain("No validators have reported yet");
    expect(line()).not.toContain("0 of 0");
    await wait(1_000);
    expect(api.callsOf("revocation").length).toBeGreaterThan(1);
  });

  it("updates live from each answer until every validator applied it", async () => {
    const api = new FakeApi();
    api.revocationAnswers = [twoOfThree, complete];
    const status = show(partial, api);
    expect(api.callsOf("revocation")).toHaveLength(1);
    expect(api.callsOf("revocation")[0]?.slice(0, 2)).toEqual([
      partial.href,
      2,
    ]);
    await settle();
    expect(line()).toContain("Old secret denied on 2 of 3 validators");
    expect(lagging()).toEqual(["replica-3: silent, last heard 5.0 s ago"]);
    await wait(500);
    expect(api.callsOf("revocation")).toHaveLength(2);
    expect(line()).toBe("✓ Old secret denied on 3 of 3 validators in 21 ms");
    expect(lagging()).toEqual([]);
    expect(status.complete).toBe(true);
    await wait(60_000);
    expect(api.callsOf("revocation")).toHaveLength(2);
  });

  it("is hidden and asks nothing without a receipt in the command's answer (no view of the validators)", async () => {
    const api = new FakeApi();
    api.revocationAnswers = [complete];
    const status = show(null, api);
    expect(status.element.hidden).toBe(true);
    await wait(10_000);
    expect(api.callsOf("revocation")).toEqual([]);
  });

  it("stops, keeping the last state, when the receipt's address answers 404", async () => {
    const api = new FakeApi();
    api.revocationAnswers = [];
    const status = show(partial, api);
    await settle();
    expect(status.watching).toBe(false);
    expect(line()).toContain("Old secret denied on 1 of 3 validators");
    await wait(10_000);
    expect(api.callsOf("revocation")).toHaveLength(1);
  });

  it("a failed request is said in words and retried after a pause", async () => {
    const api = new FakeApi();
    api.revocationAnswers = [complete];
    api.failNext("revocation", ApiError.network());
    api.failNext("revocation", new ApiError(503, "service_unavailable", "", 5));
    const status = show(partial, api);
    await settle();
    expect(line()).toBe(
      "Old secret denied on 1 of 3 validators" +
        "Could not update (no answer from the server); trying again in 3.0 s.",
    );
    expect(lagging()).toHaveLength(2);
    await wait(2_999);
    expect(api.callsOf("revocation")).toHaveLength(1);
    await wait(1);
    expect(api.callsOf("revocation")).toHaveLength(2);
    expect(line()).toContain(
      "Could not update (the server answered 503); trying again in 5.0 s.",
    );
    await wait(5_000);
    expect(api.callsOf("revocation")).toHaveLength(3);
    expect(line()).toBe("✓ Old secret denied on 3 of 3 validators in 21 ms");
    expect(status.complete).toBe(true);
  });

  it("a refusal that will not change stops it with the last state", async () => {
    const api = new FakeApi();
    api.revocationAnswers = [partial];
    api.failNext("revocation", new ApiError(403, "forbidden", "", null));
    const status = show(partial, api);
    await wait(10_000);
    expect(line()).toBe(
      "Old secret denied on 1 of 3 validators" +
        "Stopped updating: the server answered 403.",
    );
    expect(status.watching).toBe(false);
    expect(api.callsOf("revocation")).toHaveLength(1);
  });

  it("stops updating after 60 s and keeps the last state", async () => {
    const api = new FakeApi();
    api.revocationAnswers = [twoOfThree];
    const status = show(partial, api);
    await wait(GIVE_UP_AFTER_MS - 1);
    expect(status.watching).toBe(true);
    const asked = api.callsOf("revocation").length;
    expect(asked).toBeGreaterThan(100);
    await wait(1);
    expect(status.watching).toBe(false);
    expect(line()).toBe(
      "Old secret denied on 2 of 3 validators" +
        "Stopped updating after 60 s; this is the last state the validators reported.",
    );
    expect(lagging()).toEqual(["replica-3: silent, last heard 5.0 s ago"]);
    await wait(60_000);
    expect(api.callsOf("revocation")).toHaveLength(asked);
  });

  it("the 60 s limit also ends a request in flight", async () => {
    const signals: AbortSignal[] = [];
    const api: Pick<ConsoleApi, "revocation"> = {
      revocation: (_uuid, _wait, signal) => {
        if (signal) signals.push(signal);
        return new Promise<RevocationReceipt>(() => undefined);
      },
    };
    const status = show(partial, api);
    await wait(GIVE_UP_AFTER_MS);
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(true);
    expect(status.watching).toBe(false);
    expect(line()).toContain("Stopped updating after 60 s");
  });

  it("stop() cancels the request in flight and asks nothing more", async () => {
    const signals: AbortSignal[] = [];
    let answer: (r: RevocationReceipt) => void = () => undefined;
    const api: Pick<ConsoleApi, "revocation"> = {
      revocation: (_uuid, _wait, signal) => {
        if (signal) signals.push(signal);
        return new Promise<RevocationReceipt>((resolve) => {
          answer = resolve;
        });
      },
    };
    const status = show(partial, api);
    expect(signals).toHaveLength(1);
    status.stop();
    expect(signals[0]?.aborted).toBe(true);
    answer(complete);
    await wait(60_000);
    expect(signals).toHaveLength(1);
    // The late answer changed nothing.
    expect(line()).toContain("Old secret denied on 1 of 3 validators");
  });

  it("stop() during the pause after a failure asks nothing more", async () => {
    const api = new FakeApi();
    api.revocationAnswers = [complete];
    api.failNext("revocation", ApiError.network());
    const status = show(partial, api);
    await settle();
    status.stop();
    await wait(60_000);
    expect(api.callsOf("revocation")).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
