import { describe, expect, it } from "vitest";
import {
  formatDate,
  formatTimeAgo,
  formatUtcMinute,
  lastUsedText,
  secretHintText,
  vpcLabel,
} from "./format";
import { ACME_VPCS } from "./testing/fake_api";

describe("the VPC cell", () => {
  it("a key without a VPC says No VPC network", () => {
    expect(vpcLabel(null, ACME_VPCS)).toBe("No VPC network");
  });

  it("a key in a VPC shows the VPC's name", () => {
    expect(vpcLabel("8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", ACME_VPCS)).toBe(
      "acme-staging-sfo3",
    );
  });

  it("a VPC the list does not know is shown by its id", () => {
    expect(vpcLabel("c0ffee00-1234-4abc-8def-0123456789ab", ACME_VPCS)).toBe(
      "VPC c0ffee00",
    );
  });
});

describe("dates and hints", () => {
  it("shows the created date", () => {
    expect(formatDate("2026-03-05T23:30:00Z", "en-US", "UTC")).toBe(
      "Mar 5, 2026",
    );
  });

  it("shows the secret's last four characters only", () => {
    expect(secretHintText("Ab9z")).toBe("…Ab9z");
  });
});

describe("when a key was last used", () => {
  const now = new Date("2026-03-05T12:00:30Z");

  it("a key never used says Never, with no exact time", () => {
    expect(lastUsedText(null, now)).toEqual({ text: "Never", exact: null });
  });

  it("a use in the last minute is just now", () => {
    expect(formatTimeAgo("2026-03-05T12:00:00Z", now)).toBe("just now");
    expect(formatTimeAgo("2026-03-05T11:59:31Z", now)).toBe("just now");
  });

  it("a use the browser's clock places in the future is just now", () => {
    expect(formatTimeAgo("2026-03-05T12:05:00Z", now)).toBe("just now");
  });

  it("counts whole minutes below an hour", () => {
    expect(formatTimeAgo("2026-03-05T11:59:30Z", now)).toBe("1 min ago");
    expect(formatTimeAgo("2026-03-05T11:55:00Z", now)).toBe("5 min ago");
    expect(formatTimeAgo("2026-03-05T11:00:31Z", now)).toBe("59 min ago");
  });

  it("counts whole hours below a day", () => {
    expect(formatTimeAgo("2026-03-05T11:00:30Z", now)).toBe("1 h ago");
    expect(formatTimeAgo("2026-03-05T09:00:00Z", now)).toBe("3 h ago");
    expect(formatTimeAgo("2026-03-04T12:00:31Z", now)).toBe("23 h ago");
  });

  it("counts whole days from a day on", () => {
    expect(formatTimeAgo("2026-03-04T12:00:30Z", now)).toBe("1 day ago");
    expect(formatTimeAgo("2026-02-21T12:00:00Z", now)).toBe("12 days ago");
    expect(formatTimeAgo("2025-03-05T12:00:00Z", now)).toBe("365 days ago");
  });

  it("gives the exact minute in UTC beside the relative text", () => {
    expect(lastUsedText("2026-03-05T11:55:00Z", now)).toEqual({
      text: "5 min ago",
      exact: "2026-03-05 11:55 UTC",
    });
    expect(formatUtcMinute("2026-03-05T23:55:00+02:00")).toBe(
      "2026-03-05 21:55 UTC",
    );
  });

  it("a time it cannot read is shown as the server sent it", () => {
    expect(formatTimeAgo("yesterday", now)).toBe("yesterday");
    expect(formatUtcMinute("yesterday")).toBe("yesterday");
  });
});
