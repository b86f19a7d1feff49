/**
 * A cached JWKS: fetched once, refetched on an unknown `kid` (with a cooldown).
 *
 * Keys rotate additively (a new key is published before tokens carry it), so
 * an unknown `kid` is a reason to refetch once, but never more often than every
 * `cooldown` seconds, so a flood of garbage tokens cannot make us hammer the
 * server. Keys are refreshed after `maxAge` seconds so retired keys eventually
 * disappear; a failed refresh keeps the keys we have. Only EdDSA, ES256 and
 * RS256 keys are kept, each with the algorithm of the JWK itself.
 */

import { type CryptoKey, type JWK, importJWK } from "jose";

import { JwksError, TokenError } from "./errors.js";

/** The algorithms Tessera signs with. Never `none`, never HMAC. */
export const ALLOWED_ALGORITHMS: ReadonlySet<string> = new Set(["EdDSA", "ES256", "RS256"]);

/** Seconds to wait before retrying a first JWKS load that failed. */
export const FAILURE_BACKOFF = 5;

/** One usable public key of the JWKS. */
export interface VerificationKey {
  kid: string;
  alg: string;
  key: CryptoKey | Uint8Array;
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

function inferAlg(jwk: JWK): string | undefined {
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return "EdDSA";
  if (jwk.kty === "EC" && jwk.crv === "P-256") return "ES256";
  if (jwk.kty === "RSA") return "RS256";
  return undefined;
}

/** The usable keys of a JWKS document, by `kid`; unusable keys are skipped. */
export async function parseJwks(document: unknown): Promise<Map<string, VerificationKey>> {
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new JwksError("the JWKS is not an object with a 'keys' array");
  const out = new Map<string, VerificationKey>();
  for (const entry of keys as unknown[]) {
    if (typeof entry !== "object" || entry === null) continue;
    const jwk = entry as JWK;
    const alg = jwk.alg ?? inferAlg(jwk);
    if (typeof jwk.kid !== "string" || !alg || !ALLOWED_ALGORITHMS.has(alg)) continue;
    if (jwk.use !== undefined && jwk.use !== "sig") continue;
    try {
      const key = await importJWK({ ...jwk, alg }, alg);
      out.set(jwk.kid, { kid: jwk.kid, alg, key });
    } catch {
      // A key we cannot use must not break the others.
    }
  }
  return out;
}

export interface JwksCacheOptions {
  clock: () => number;
  cooldown: number;
  maxAge: number;
  timeoutMs: number;
  fetch?: FetchLike | undefined;
}

/** The keys of one JWKS URL. */
export class JwksCache {
  readonly url: string;
  /** How many times the JWKS was fetched (successfully or not). */
  fetchCount = 0;
  private keys = new Map<string, VerificationKey>();
  private fetchedAt: number | null = null;
  private failedAt: number | null = null;
  private lastRefetch: number | null = null;
  private inflight: Promise<void> | null = null;
  private readonly opts: JwksCacheOptions;

  constructor(url: string, opts: JwksCacheOptions) {
    this.url = url;
    this.opts = opts;
  }

  /** The key named `kid`; rejects with `TokenError("unknown_key")` or `JwksError`. */
  async get(kid: string): Promise<VerificationKey> {
    let loaded = false;
    if (this.needsLoad()) {
      await this.load();
      loaded = true;
    }
    let key = this.keys.get(kid);
    if (!key && !loaded && this.mayRefetch()) {
      await this.load();
      key = this.keys.get(kid);
    }
    if (!key) throw new TokenError("unknown_key", `no key with kid ${JSON.stringify(kid)} in the JWKS`);
    return key;
  }

  private needsLoad(): boolean {
    const now = this.opts.clock();
    if (this.fetchedAt === null) {
      if (this.failedAt !== null && now - this.failedAt < FAILURE_BACKOFF) {
        throw new JwksError(`the JWKS from ${this.url} is unavailable (retrying shortly)`);
      }
      return true;
    }
    return now - this.fetchedAt >= this.opts.maxAge;
  }

  /** Claim the right to refetch for an unknown kid (starts the cooldown). */
  private mayRefetch(): boolean {
    const now = this.opts.clock();
    if (this.lastRefetch !== null && now - this.lastRefetch < this.opts.cooldown) return false;
    this.lastRefetch = now;
    return true;
  }

  /** One fetch at a time: concurrent callers share it. */
  private load(): Promise<void> {
    this.inflight ??= this.fetchOnce().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async fetchOnce(): Promise<void> {
    this.fetchCount += 1;
    const doFetch: FetchLike = this.opts.fetch ?? ((input, init) => fetch(input, init));
    try {
      let response: Response;
      try {
        response = await doFetch(this.url, {
          headers: { accept: "application/json" },
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        });
      } catch (err) {
        throw new JwksError(`could not fetch the JWKS from ${this.url}: ${(err as Error).name}`, { cause: err });
      }
      if (response.status !== 200) {
        throw new JwksError(`the JWKS endpoint answered HTTP ${response.status}`);
      }
      let document: unknown;
      try {
        document = await response.json();
      } catch (err) {
        throw new JwksError("the JWKS endpoint did not answer JSON", { cause: err });
      }
      this.keys = await parseJwks(document);
      this.fetchedAt = this.opts.clock();
    } catch (err) {
      const now = this.opts.clock();
      if (this.fetchedAt === null) {
        this.failedAt = now;
        throw err;
      }
      // Keep the keys we have and try again after the cooldown, not on every call.
      this.fetchedAt = Math.max(this.fetchedAt, now - this.opts.maxAge + this.opts.cooldown);
    }
  }
}
