// An in-memory ConsoleApi for the unit tests: the views, permissions and confirmations of
// SPEC section 1, with failures that a test can queue per method.

import type {
  ApiKeyInfo,
  CatalogModel,
  CommandResult,
  ConsoleApi,
  CreateKeyRequest,
  DevSignInUser,
  KeyPage,
  KeyView,
  RevocationReceipt,
  SignedInUser,
  ValidatorReceipt,
  Vpc,
} from "../api";
import { ApiError } from "../errors";

export const OLGA: SignedInUser = {
  user_id: "user-olga",
  name: "Olga Owner",
  team_id: "team-acme",
  role: "owner",
};
export const MIA: SignedInUser = {
  user_id: "user-mia",
  name: "Mia Member",
  team_id: "team-acme",
  role: "member",
};
export const OMAR: SignedInUser = {
  user_id: "user-omar",
  name: "Omar Owner",
  team_id: "team-acme",
  role: "owner",
};

export const CATALOG: CatalogModel[] = [
  {
    id: "openai-gpt-4o",
    object: "model",
    created: 1715367049,
    owned_by: "openai",
    name: "GPT-4o",
    batch_capable: true,
  },
  {
    id: "anthropic-claude-3.5-haiku",
    object: "model",
    created: 1729555200,
    owned_by: "anthropic",
    name: "Claude 3.5 Haiku",
    batch_capable: true,
  },
  {
    id: "alibaba-qwen3-32b",
    object: "model",
    created: 1745884800,
    owned_by: "digitalocean",
    name: "Qwen3 32B",
    batch_capable: false,
  },
];

export const ACME_VPCS: Vpc[] = [
  {
    id: "5f0c8e3a-2b7d-4c1e-9a6f-1d2e3f4a5b6c",
    name: "acme-prod-nyc3",
    region: "nyc3",
  },
  {
    id: "8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    name: "acme-staging-sfo3",
    region: "sfo3",
  },
];

// A receipt as the server builds it from its validators.
export function receiptOf(
  validators: ValidatorReceipt[],
  offset = 4,
): RevocationReceipt {
  const applied = validators.filter((v) => v.state === "applied").length;
  return {
    partition: 0,
    offset,
    href: `/v2/gen-ai/revocations/0/${String(offset)}`,
    validators_total: validators.length,
    validators_applied: applied,
    complete: validators.length > 0 && applied === validators.length,
    summary: `old secret denied on ${String(applied)} of ${String(validators.length)} validators`,
    validators,
  };
}

export function applied(replicaId: string, tookMs?: number): ValidatorReceipt {
  return {
    replica_id: replicaId,
    state: "applied",
    applied_offset: 5,
    heard_ms_ago: 6,
    ...(tookMs === undefined ? {} : { took_ms: tookMs }),
  };
}

export function behind(replicaId: string): ValidatorReceipt {
  return {
    replica_id: replicaId,
    state: "behind",
    applied_offset: 3,
    heard_ms_ago: 120,
  };
}

export function silent(
  replicaId: string,
  heardMsAgo: number,
): ValidatorReceipt {
  return {
    replica_id: replicaId,
    state: "silent",
    applied_offset: 3,
    heard_ms_ago: heardMsAgo,
  };
}

export type Call = { method: keyof ConsoleApi; args: unknown[] };

let counter = 0;

export function makeKey(overrides: Partial<ApiKeyInfo> = {}): ApiKeyInfo {
  counter += 1;
  const n = String(counter).padStart(4, "0");
  return {
    uuid: `00000000-0000-4000-8000-00000000${n}`,
    name: `key-${n}`,
    created_at: new Date(Date.UTC(2026, 0, 1) + counter * 60_000).toISOString(),
    created_by: OLGA.user_id,
    creator_name: OLGA.name,
    all_models: true,
    models: CATALOG.map((m) => ({
      id: m.id,
      name: m.name ?? m.id,
      owned_by: m.owned_by,
    })),
    batch_inference: false,
    vpc_uuid: null,
    legacy: false,
    secret_hint: n,
    revision: 1,
    expires_at: null,
    expired: false,
    last_used_at: null,
    ...overrides,
  };
}

export class FakeApi implements ConsoleApi {
  keys: ApiKeyInfo[] = [];
  vpcs: Vpc[] = ACME_VPCS;
  catalog: CatalogModel[] = CATALOG;
  devUsers: DevSignInUser[] | null = [OLGA, MIA, OMAR];
  signedIn: SignedInUser | null;
  readonly calls: Call[] = [];
  // The receipt regenerate and delete answer with (null: the server sent none).
  commandReceipt: RevocationReceipt | null = receiptOf([
    applied("replica-1", 12),
  ]);
  // What GET .../revocation answers, in order; the last one again once the others are used up.
  // None: 404, as from a server without a view of the validators.
  revocationAnswers: RevocationReceipt[] = [];
  private readonly failures = new Map<keyof ConsoleApi, ApiError[]>();
  private secretCounter = 0;

  constructor(user: SignedInUser | null = OLGA) {
    this.signedIn = user;
  }

  // The next call of `method` fails with `error` (queued in order).
  failNext(method: keyof ConsoleApi, error: ApiError): void {
    const queue = this.failures.get(method) ?? [];
    queue.push(error);
    this.failures.set(method, queue);
  }

  callsOf(method: keyof ConsoleApi): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  private enter(method: keyof ConsoleApi, args: unknown[]): SignedInUser {
    this.calls.push({ method, args });
    const failure = this.failures.get(method)?.shift();
    if (failure) throw failure;
    if (method === "devSignInUsers" || method === "devSignIn")
      return this.signedIn ?? OLGA;
    if (this.signedIn === null) {
      throw new ApiError(401, "unauthorized", "no session", null);
    }
    return this.signedIn;
  }

  // Runs a call as the API would: failures and refusals reject, never throw.
  private call<T>(
    method: keyof ConsoleApi,
    args: unknown[],
    body: (user: SignedInUser) => T,
  ): Promise<T> {
    return new Promise<T>((resolve) => {
      resolve(body(this.enter(method, args)));
    });
  }

  private newSecret(): string {
    this.secretCounter += 1;
    return `sk-do-v1-FAKEsecret${String(this.secretCounter).padStart(6, "0")}xyz`;
  }

  private find(uuid: string, user: SignedInUser): ApiKeyInfo {
    const key = this.keys.find((k) => k.uuid === uuid);
    if (!key) throw new ApiError(404, "not_found", `api key ${uuid}`, null);
    if (user.role !== "owner" && key.created_by !== user.user_id) {
      throw new ApiError(403, "forbidden", "not your key", null);
    }
    return key;
  }

  // Regenerate and delete: `body` runs on the key only when the confirmation is its current name.
  private callConfirmed<T>(
    method: "regenerateKey" | "deleteKey",
    args: [uuid: string, confirmName: string, idempotencyKey: string],
    body: (key: ApiKeyInfo) => T,
  ): Promise<T> {
    const [uuid, confirmName] = args;
    return this.call(method, args, (user) => {
      const key = this.find(uuid, user);
      if (confirmName !== key.name) {
        throw new ApiError(
          409,
          "conflict",
          `confirm_name does not match the current name of api key ${uuid}`,
          null,
        );
      }
      return body(key);
    });
  }

  me(): Promise<SignedInUser> {
    return this.call("me", [], (user) => user);
  }

  devSignInUsers(): Promise<DevSignInUser[] | null> {
    return this.call("devSignInUsers", [], () => this.devUsers);
  }

  devSignIn(userId: string): Promise<void> {
    return this.call("devSignIn", [userId], () => {
      this.signedIn = this.devUsers?.find((u) => u.user_id === userId) ?? null;
    });
  }

  signOut(): Promise<void> {
    return this.call("signOut", [], () => {
      this.signedIn = null;
    });
  }

  listVpcs(): Promise<Vpc[]> {
    return this.call("listVpcs", [], () => this.vpcs);
  }

  listModels(): Promise<CatalogModel[]> {
    return this.call("listModels", [], () => this.catalog);
  }

  listKeys(view: KeyView, page: number, perPage: number): Promise<KeyPage> {
    return this.call("listKeys", [view, page, perPage], (user) => {
      if (view === "team" && user.role !== "owner") {
        throw new ApiError(
          403,
          "forbidden",
          "the team view is for owners",
          null,
        );
      }
      const inView = this.keys
        .filter((k) =>
          view === "mine"
            ? !k.legacy && k.created_by === user.user_id
            : view === "legacy"
              ? k.legacy
              : !k.legacy && k.created_by !== user.user_id,
        )
        .sort((a, b) => b.created_at.localeCompare(a.created_at));
      return {
        keys: inView
          .slice((page - 1) * perPage, page * perPage)
          .map((k) => ({ ...k })),
        total: inView.length,
        page,
        perPage,
      };
    });
  }

  createKey(
    request: CreateKeyRequest,
    idempotencyKey: string,
  ): Promise<CommandResult> {
    return this.call("createKey", [request, idempotencyKey], (user) => {
      const key = makeKey({
        name: request.name,
        created_at: new Date(
          Date.UTC(2027, 0, 1) + this.keys.length,
        ).toISOString(),
        created_by: user.user_id,
        creator_name: user.name,
        all_models: request.all_models === true,
        batch_inference: request.batch_inference === true,
        vpc_uuid: request.vpc_uuid ?? null,
        expires_at: request.expires_at ?? null,
      });
      this.keys.push(key);
      return {
        key,
        secret: this.newSecret(),
        replayed: false,
        revocation: null,
      };
    });
  }

  renameKey(
    uuid: string,
    name: string,
    idempotencyKey: string,
  ): Promise<ApiKeyInfo> {
    return this.call("renameKey", [uuid, name, idempotencyKey], (user) => {
      const key = this.find(uuid, user);
      key.name = name;
      key.revision += 1;
      return { ...key };
    });
  }

  regenerateKey(
    uuid: string,
    confirmName: string,
    idempotencyKey: string,
  ): Promise<CommandResult> {
    return this.callConfirmed(
      "regenerateKey",
      [uuid, confirmName, idempotencyKey],
      (key) => {
        key.revision += 1;
        return {
          key: { ...key },
          secret: this.newSecret(),
          replayed: false,
          revocation: this.commandReceipt,
        };
      },
    );
  }

  deleteKey(
    uuid: string,
    confirmName: string,
    idempotencyKey: string,
  ): Promise<CommandResult> {
    return this.callConfirmed(
      "deleteKey",
      [uuid, confirmName, idempotencyKey],
      (key) => {
        this.keys = this.keys.filter((k) => k !== key);
        return {
          key: { ...key },
          secret: null,
          replayed: false,
          revocation: this.commandReceipt,
        };
      },
    );
  }

  // Answers for deleted keys too, as the server does.
  revocation(
    href: string,
    waitSeconds: number,
    signal?: AbortSignal,
  ): Promise<RevocationReceipt> {
    return this.call("revocation", [href, waitSeconds, signal], () => {
      const answer =
        this.revocationAnswers.length > 1
          ? this.revocationAnswers.shift()
          : this.revocationAnswers[0];
      if (answer === undefined) {
        throw new ApiError(404, "not_found", "no view of the validators", null);
      }
      return answer;
    });
  }
}

// Lets pending promise callbacks run.
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
