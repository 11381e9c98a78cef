import { describe, expect, it } from "vitest";
import { clampPage, pageCount, pageState } from "./pagination";

describe("pagination", () => {
  it("a list of 45 keys has three pages of 20", () => {
    expect(pageCount(45, 20)).toBe(3);
    expect(pageState(2, 45, 20)).toMatchObject({
      pageCount: 3,
      hasPrevious: true,
      hasNext: true,
      summary: "Keys 21–40 of 45",
    });
  });

  it("the first page offers no previous page, the last no next one", () => {
    expect(pageState(1, 45, 20)).toMatchObject({
      hasPrevious: false,
      hasNext: true,
    });
    expect(pageState(3, 45, 20)).toMatchObject({
      hasPrevious: true,
      hasNext: false,
      summary: "Keys 41–45 of 45",
    });
  });

  it("an empty list is one page without keys", () => {
    expect(pageState(1, 0, 20)).toMatchObject({
      pageCount: 1,
      hasNext: false,
      summary: "No keys",
    });
  });

  it("deleting the last key of the last page goes back one page", () => {
    expect(clampPage(3, 40, 20)).toBe(2);
    expect(clampPage(1, 0, 20)).toBe(1);
  });
});
