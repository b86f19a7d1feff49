/**
 * Access-token verification against an install's JWKS (docs/contract.md section
 * 3): the algorithm comes from the key (EdDSA, ES256 or RS256; the header
 * `alg` must equal the JWK's), `typ` is `at+jwt`, `iss` is the base URL, `aud`
 * the app id, and `exp`/`nbf` are checked with a clock-skew leeway. `jose`
 * checks the signature and the claims; the clock is injectable so the shared
 * vectors can be verified at their fixed `now`.
 */

import { type JWTPayload, decodeProtectedHeader, errors as joseErrors, jwtVerify } from "jose";

import { type Claims, claimsFromPayload } from "./claims.js";
import { TokenError, type TokenErrorCode } from "./errors.js";
import { ALLOWED_ALGORITHMS, type FetchLike, JwksCache, type VerificationKey } from "./jwks.js";

export interface VerifierOptions {
  /** The install's public URL: the token issuer, and where the JWKS lives. */
  baseUrl: string;
  /** The app id (the tokens' `aud`). */
  audience: string;
  /** Clock-skew leeway in seconds (default 30). */
  leeway?: number;
  /** Expected `iss` (default: `baseUrl` without a trailing slash). */
  issuer?: string;
  /** Default `{baseUrl}/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** Minimum seconds between refetches caused by unknown `kid`s (default 30). */
  refetchCooldown?: number;
  /** Refresh the JWKS after this many seconds (default 3600). */
  jwksMaxAge?: number;
  /** Timeout of a JWKS fetch in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Current Unix time in seconds (default: the system clock). */
  clock?: () => number;
  /** The fetch used for the JWKS (default: global `fetch`). */
  fetch?: FetchLike;
}

export interface Verifier {
  readonly issuer: string;
  readonly audience: string;
  readonly jwks: JwksCache;
  /** The verified claims; rejects with `TokenError` (or `JwksError` if the keys cannot be fetched). */
  verify(token: string): Promise<Claims>;
  /** The claims, or `null` when the caller is not authenticated (a JWKS outage still rejects). */
  verifyOrNull(token: string | null | undefined): Promise<Claims | null>;
}

const ACCEPTED_TYP = new Set(["at+jwt", "application/at+jwt"]);

function inspect(token: string): { alg: string; kid: string } {
  if (typeof token !== "string" || token.split(".").length !== 3) {
    throw new TokenError("malformed", "the token is not a JWT");
  }
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token) as Record<string, unknown>;
  } catch (err) {
    throw new TokenError("malformed", "the token header cannot be decoded", { cause: err });
  }
  const { alg, typ, kid } = header;
  if (typeof alg !== "string") throw new TokenError("malformed", "the token header has no alg");
  if (!ALLOWED_ALGORITHMS.has(alg)) {
    throw new TokenError("unsupported_algorithm", `algorithm ${JSON.stringify(alg)} is not accepted`);
  }
  if (typeof typ !== "string" || !ACCEPTED_TYP.has(typ.toLowerCase())) {
    throw new TokenError("invalid_token_type", "the token is not an access token (typ is not at+jwt)");
  }
  if (typeof kid !== "string" || kid === "") throw new TokenError("unknown_key", "the token header has no kid");
  return { alg, kid };
}

const CLAIM_CODES: Record<string, TokenErrorCode> = {
  iss: "invalid_issuer",
  aud: "invalid_audience",
  nbf: "not_yet_valid",
  exp: "expired",
};

function mapJoseError(err: unknown): TokenError {
  if (err instanceof joseErrors.JWTExpired) {
    return new TokenError(err.reason === "check_failed" ? "expired" : "malformed", "the token has expired", { cause: err });
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    const code = err.reason === "check_failed" ? CLAIM_CODES[err.claim] : undefined;
    return new TokenError(code ?? "malformed", `the ${err.claim} claim is ${err.reason === "missing" ? "missing" : "invalid"}`, { cause: err });
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new TokenError("invalid_signature", "the token signature is invalid", { cause: err });
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) {
    return new TokenError("unsupported_algorithm", "the token algorithm is not accepted", { cause: err });
  }
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) {
    return new TokenError("malformed", "the token cannot be decoded", { cause: err });
  }
  return new TokenError("invalid_token", "the token is invalid", { cause: err });
}

class JwtVerifier implements Verifier {
  readonly issuer: string;
  readonly audience: string;
  readonly jwks: JwksCache;
  private readonly leeway: number;
  private readonly clock: () => number;

  constructor(opts: VerifierOptions) {
    const base = (opts.baseUrl ?? "").replace(/\/+$/, "");
    if (!base) throw new TypeError("baseUrl is required");
    if (!opts.audience) throw new TypeError("audience (the app id) is required");
    this.issuer = opts.issuer ?? base;
    this.audience = opts.audience;
    this.leeway = opts.leeway ?? 30;
    this.clock = opts.clock ?? (() => Date.now() / 1000);
    this.jwks = new JwksCache(opts.jwksUrl ?? `${base}/.well-known/jwks.json`, {
      clock: this.clock,
      cooldown: opts.refetchCooldown ?? 30,
      maxAge: opts.jwksMaxAge ?? 3600,
      timeoutMs: opts.timeoutMs ?? 5000,
      fetch: opts.fetch,
    });
  }

  async verify(token: string): Promise<Claims> {
    const { alg, kid } = inspect(token);
    const key = await this.jwks.get(kid);
    return this.check(token, alg, key);
  }

  async verifyOrNull(token: string | null | undefined): Promise<Claims | null> {
    if (!token) return null;
    try {
      return await this.verify(token);
    } catch (err) {
      if (err instanceof TokenError) return null;
      throw err;
    }
  }

  private async check(token: string, alg: string, key: VerificationKey): Promise<Claims> {
    if (key.alg !== alg) {
      throw new TokenError("unsupported_algorithm", `key ${JSON.stringify(key.kid)} is for ${key.alg}, the token says ${alg}`);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key.key, {
        algorithms: [key.alg],
        issuer: this.issuer,
        audience: this.audience,
        clockTolerance: this.leeway,
        currentDate: new Date(this.clock() * 1000),
        requiredClaims: ["iss", "aud", "sub", "exp"],
      }));
    } catch (err) {
      throw mapJoseError(err);
    }
    if (typeof payload.sub !== "string") throw new TokenError("malformed", "the sub claim is not a string");
    return claimsFromPayload(payload);
  }
}

/** A verifier for one app of one install. Create it once: it caches the JWKS. */
export function createVerifier(options: VerifierOptions): Verifier {
  return new JwtVerifier(options);
}
