import { describe, expect, it } from "vitest";
import { formatCreatedDate, secretHintText, vpcLabel } from "./format";
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
    expect(formatCreatedDate("2026-03-05T23:30:00Z", "en-US", "UTC")).toBe(
      "Mar 5, 2026",
    );
  });

  it("shows the secret's last four characters only", () => {
    expect(secretHintText("Ab9z")).toBe("…Ab9z");
  });
});
