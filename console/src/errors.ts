// API errors and the words the page shows for them. Every failed request becomes an ApiError
// (status 0 when the server could not be reached); describeError says what happened, in the
// terms of what the user was doing, and what to do next.

export const NETWORK_ERROR_ID = "network_error";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly id: string,
    readonly serverMessage: string,
    // Seconds from Retry-After, when the server sent one.
    readonly retryAfterSeconds: number | null,
  ) {
    super(`${String(status)} ${id}: ${serverMessage}`);
    this.name = "ApiError";
  }

  static network(): ApiError {
    return new ApiError(0, NETWORK_ERROR_ID, "", null);
  }

  static fromResponse(
    status: number,
    body: unknown,
    retryAfter: string | null,
    now: Date = new Date(),
  ): ApiError {
    let id = "";
    let message = "";
    if (typeof body === "object" && body !== null) {
      const fields = body as Record<string, unknown>;
      if (typeof fields["id"] === "string") id = fields["id"];
      if (typeof fields["message"] === "string") message = fields["message"];
    }
    return new ApiError(status, id, message, parseRetryAfter(retryAfter, now));
  }
}

// Retry-After is either delay-seconds or an HTTP date.
export function parseRetryAfter(
  value: string | null,
  now: Date = new Date(),
): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

export type Action =
  | "load-account"
  | "sign-in"
  | "sign-out"
  | "load-keys"
  | "load-catalog"
  | "load-vpcs"
  | "create"
  | "rename"
  | "regenerate"
  | "delete";

const DOING: Record<Action, string> = {
  "load-account": "Loading your account",
  "sign-in": "Signing in",
  "sign-out": "Signing out",
  "load-keys": "Loading the keys",
  "load-catalog": "Loading the model catalog",
  "load-vpcs": "Loading your team's VPC networks",
  create: "Creating the key",
  rename: "Renaming the key",
  regenerate: "Regenerating the secret",
  delete: "Deleting the key",
};

const KEY_COMMANDS: ReadonlySet<Action> = new Set<Action>([
  "create",
  "rename",
  "regenerate",
  "delete",
]);
const ON_ONE_KEY: ReadonlySet<Action> = new Set<Action>([
  "rename",
  "regenerate",
  "delete",
]);

export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(-1, "client_error", String(error), null);
}

function seconds(n: number): string {
  return n === 1 ? "1 second" : `${String(n)} seconds`;
}

function withDetail(message: string): string {
  const trimmed = message.trim().replace(/\.$/, "");
  return trimmed === "" ? "" : ` (${trimmed})`;
}

// The sentence shown next to whatever caused the error.
export function describeError(error: unknown, action: Action): string {
  const e = asApiError(error);
  const doing = DOING[action];
  const detail = withDetail(e.serverMessage);
  switch (e.status) {
    case 0:
      return KEY_COMMANDS.has(action)
        ? `${doing} failed: the server could not be reached. Try again: the server recognises a retry from this window and never does it twice.`
        : `${doing} failed: the server could not be reached. Check your connection and try again.`;
    case 400:
      return `${doing} failed: the server refused the input${detail}.`;
    case 401:
      return `${doing} failed: you are not signed in, or your session has ended. Sign in again.`;
    case 403:
      if (e.id === "csrf_required") {
        return `${doing} was refused: the request lacked the console's CSRF header. Reload the page and try again.`;
      }
      return `${doing} was refused: you are not allowed to do this${detail}.`;
    case 404:
    case 410:
      return ON_ONE_KEY.has(action)
        ? `${doing} failed: the key no longer exists (it may have been deleted).`
        : `${doing} failed: not found${detail}.`;
    case 409:
      if (e.serverMessage.includes("confirm_name")) {
        return `${doing} failed: the name you typed is no longer the key's name (it may have just been renamed). Close this window, check the key's name and try again.`;
      }
      return `${doing} failed because of a conflict${detail}.`;
    case 413:
      return `${doing} failed: the request is larger than the server accepts.`;
    case 415:
      return `${doing} failed: the server did not accept the request's format${detail}.`;
    case 429:
      return e.retryAfterSeconds !== null
        ? `${doing} was refused: too many requests. Wait ${seconds(e.retryAfterSeconds)} and try again.`
        : `${doing} was refused: too many requests. Wait a moment and try again.`;
    case 503: {
      const when =
        e.retryAfterSeconds !== null
          ? ` in ${seconds(e.retryAfterSeconds)}`
          : " in a moment";
      const changed = KEY_COMMANDS.has(action) ? " Nothing was changed." : "";
      return `${doing} failed: the key service is temporarily unavailable${detail}.${changed} Try again${when}.`;
    }
    case 504:
      return KEY_COMMANDS.has(action)
        ? `${doing}: the key service could not confirm whether it was done (its event log went away mid-commit). Try again: the retry finds out what happened, never does it twice, and shows the new secret if there is one.`
        : `${doing} failed: the server answered 504${detail}. Try again.`;
    case -1:
      return `${doing} failed: an unexpected error in the page${detail}.`;
    default:
      return `${doing} failed: the server answered ${String(e.status)}${detail}.`;
  }
}

// After these the request was not carried out, may not have arrived, or its outcome is unknown
// (504): a retry of the same window sends the same Idempotency-Key, so it can never be done
// twice, and after a 504 the retry learns the outcome (with the new secret, if one was made).
export function isRetryableWithSameKey(error: unknown): boolean {
  const e = asApiError(error);
  return (
    e.status === 0 || e.status === 503 || e.status === 504 || e.status === 429
  );
}
