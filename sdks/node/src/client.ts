/**
 * A client of Tessera's server (admin) API, authenticated with an API key.
 *
 * Fetch-based (inject `fetch` for proxies, tests or other runtimes), with a
 * timeout; error answers (`{"error": {"code", "message"}}`) become `ApiError`
 * with the HTTP status and the error code. The API key is sent as
 * `Authorization: Bearer tsk_…` and never appears in messages.
 */

import { ApiError } from "./errors.js";
import type { FetchLike } from "./jwks.js";

/** A user as the admin API returns it. */
export interface User {
  id: string;
  poolId: string | null;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  metadata: Record<string, unknown>;
  disabled: boolean;
  createdAt: Date | null;
  updatedAt: Date | null;
  /** The JSON as received. */
  raw: Record<string, unknown>;
}

/** One page of users; `nextCursor` is `null` on the last page. */
export interface UserPage {
  users: User[];
  nextCursor: string | null;
}

export interface ListUsersOptions {
  cursor?: string | null;
  limit?: number;
  /** Server-side search by email (a substring match). */
  email?: string;
}

export interface ClientOptions {
  baseUrl: string;
  /** An API key, `tsk_…`. */
  apiKey: string;
  /** Per-request timeout in milliseconds (default 10000). */
  timeoutMs?: number;
  /** The fetch to use (default: global `fetch`). */
  fetch?: FetchLike;
}

export interface RequestOptions {
  query?: Record<string, string | number | null | undefined>;
  body?: unknown;
}

export interface TesseraClient {
  readonly baseUrl: string;
  /** `GET /v1/admin/users/{id}`; rejects with `ApiError` (404 `not_found`) when absent. */
  getUser(id: string): Promise<User>;
  /** The user whose email is exactly `email` (case-insensitive), else `null`. */
  getUserByEmail(email: string): Promise<User | null>;
  /** One page of users. */
  listUsers(options?: ListUsersOptions): Promise<UserPage>;
  /** Every user, fetching pages as needed: `for await (const u of client.iterUsers())`. */
  iterUsers(options?: Omit<ListUsersOptions, "cursor">): AsyncGenerator<User, void, undefined>;
  /** `DELETE /v1/admin/users/{id}/sessions`: sign the user out everywhere; resolves to the count revoked. */
  revokeSessions(userId: string): Promise<number>;
  /** Call any route; resolves to the decoded JSON (`null` for no content). */
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<T>;
}

function time(value: unknown): Date | null {
  if (typeof value !== "string") return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

const strOrNull = (v: unknown): string | null => (typeof v === "string" ? v : null);

/** A `User` from the admin API's JSON. */
export function userFromJson(data: Record<string, unknown>): User {
  const metadata = data["metadata"];
  return {
    id: String(data["id"]),
    poolId: strOrNull(data["pool_id"]),
    email: strOrNull(data["email"]),
    emailVerified: data["email_verified"] === true,
    name: strOrNull(data["name"]),
    metadata: typeof metadata === "object" && metadata !== null ? (metadata as Record<string, unknown>) : {},
    disabled: data["disabled"] === true,
    createdAt: time(data["created_at"]),
    updatedAt: time(data["updated_at"]),
    raw: data,
  };
}

function pathId(id: string): string {
  if (!id) throw new TypeError("an id is required");
  return encodeURIComponent(id);
}

class Client implements TesseraClient {
  readonly baseUrl: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #fetch: FetchLike;

  constructor(opts: ClientOptions) {
    const base = (opts.baseUrl ?? "").replace(/\/+$/, "");
    if (!base) throw new TypeError("baseUrl is required");
    if (!opts.apiKey) throw new TypeError("apiKey is required");
    this.baseUrl = base;
    this.#apiKey = opts.apiKey;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#fetch = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(options.query ?? {})) {
      if (v !== null && v !== undefined) url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#apiKey}`,
      accept: "application/json",
    };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    let response: Response;
    let text: string;
    try {
      const init: RequestInit = { method, headers, signal: AbortSignal.timeout(this.#timeoutMs) };
      if (body !== undefined) init.body = body;
      response = await this.#fetch(url.toString(), init);
      text = await response.text();
    } catch (err) {
      const name = (err as Error | undefined)?.name;
      if (name === "TimeoutError" || name === "AbortError") {
        throw new ApiError(null, "timeout", `${method} ${path} timed out after ${this.#timeoutMs} ms`, { cause: err });
      }
      throw new ApiError(null, "connection_error", `${method} ${path} failed: ${name ?? "error"}`, { cause: err });
    }
    let json: unknown = null;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        if (response.ok) throw new ApiError(response.status, "bad_response", "the server answered something other than JSON");
      }
    }
    if (!response.ok) {
      const error = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
      const code = typeof error?.code === "string" && error.code ? error.code : "http_error";
      const message = typeof error?.message === "string" && error.message ? error.message : `HTTP ${response.status}`;
      throw new ApiError(response.status, code, message);
    }
    return json as T;
  }

  async getUser(id: string): Promise<User> {
    return userFromJson(await this.request<Record<string, unknown>>("GET", `/v1/admin/users/${pathId(id)}`));
  }

  async listUsers(options: ListUsersOptions = {}): Promise<UserPage> {
    const data = await this.request<{ users?: unknown; next_cursor?: unknown }>("GET", "/v1/admin/users", {
      query: { email: options.email, cursor: options.cursor, limit: options.limit },
    });
    if (!data || !Array.isArray(data.users)) {
      throw new ApiError(200, "bad_response", "unexpected answer to a user listing");
    }
    return {
      users: (data.users as Record<string, unknown>[]).map(userFromJson),
      nextCursor: typeof data.next_cursor === "string" && data.next_cursor ? data.next_cursor : null,
    };
  }

  async *iterUsers(options: Omit<ListUsersOptions, "cursor"> = {}): AsyncGenerator<User, void, undefined> {
    let cursor: string | null = null;
    for (;;) {
      const page: UserPage = await this.listUsers({ ...options, cursor });
      yield* page.users;
      if (page.nextCursor === null || page.users.length === 0) return;
      cursor = page.nextCursor;
    }
  }

  async getUserByEmail(email: string): Promise<User | null> {
    if (!email) throw new TypeError("an email is required");
    const wanted = email.toLowerCase();
    for await (const user of this.iterUsers({ email })) {
      if (user.email !== null && user.email.toLowerCase() === wanted) return user;
    }
    return null;
  }

  async revokeSessions(userId: string): Promise<number> {
    const data = await this.request<{ revoked?: unknown } | null>("DELETE", `/v1/admin/users/${pathId(userId)}/sessions`);
    return typeof data?.revoked === "number" ? data.revoked : 0;
  }
}

/** A server-API client: `createClient({ baseUrl, apiKey })`. */
export function createClient(options: ClientOptions): TesseraClient {
  return new Client(options);
}
