// Page arithmetic of the key lists (pages start at 1).

export const PER_PAGE = 20;

export interface PageState {
  page: number;
  pageCount: number;
  hasPrevious: boolean;
  hasNext: boolean;
  // "Keys 21–40 of 45"
  summary: string;
}

export function pageCount(total: number, perPage: number): number {
  return Math.max(1, Math.ceil(total / perPage));
}

export function pageState(
  page: number,
  total: number,
  perPage: number,
): PageState {
  const count = pageCount(total, perPage);
  const first = total === 0 ? 0 : (page - 1) * perPage + 1;
  const last = Math.min(total, page * perPage);
  return {
    page,
    pageCount: count,
    hasPrevious: page > 1,
    hasNext: page < count,
    summary:
      total === 0
        ? "No keys"
        : `Keys ${String(first)}–${String(last)} of ${String(total)}`,
  };
}

// The page to show after a list came back: past the end (the last key of the last page was
// deleted) goes back to the new last page.
export function clampPage(
  page: number,
  total: number,
  perPage: number,
): number {
  return Math.min(Math.max(1, page), pageCount(total, perPage));
}
