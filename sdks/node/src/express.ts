/**
 * Express (and Connect-style) middleware: `app.use(tesseraAuth(verifier))`.
 *
 * Reads the token as docs/contract.md prescribes (bearer header, then the
 * `tessera_at` cookie), puts the verified claims on `req.tessera` (and
 * `res.locals.tessera`), and answers with Tessera's error envelope: 401 (with
 * `WWW-Authenticate: Bearer`) when not authenticated, 403 when a required role
 * is missing, 503 when the JWKS cannot be fetched. It needs no import from
 * Express, only the shape of its request and response.
 */

import type { Claims } from "./claims.js";
import { JwksError, TokenError } from "./errors.js";
import type { HeaderInput } from "./headers.js";
import { tokenFromHeaders } from "./tokens.js";
import type { Verifier } from "./verifier.js";

declare global {
  // Types `req.tessera` in Express handlers (merges with @types/express when present).
  namespace Express {
    interface Request {
      /** The verified claims, set by `tesseraAuth` (`null` for anonymous callers with `optional`). */
      tessera?: Claims | null;
    }
  }
}

/** The parts of an Express request the middleware uses. */
export interface AuthRequest {
  headers: HeaderInput;
  tessera?: Claims | null;
}

/** The parts of an Express response the middleware uses. */
export interface AuthResponse {
  status(code: number): AuthResponse;
  setHeader(name: string, value: string): unknown;
  json(body: unknown): unknown;
  locals?: Record<string, unknown>;
}

export interface AuthOptions {
  /** Roles the caller must all have (403 otherwise). */
  roles?: readonly string[];
  /** Let anonymous callers through with `req.tessera = null`. */
  optional?: boolean;
}

export type Middleware = (req: AuthRequest, res: AuthResponse, next: (err?: unknown) => void) => void;

function fail(res: AuthResponse, status: number, code: string, message: string, challenge?: string): void {
  if (challenge) res.setHeader("WWW-Authenticate", challenge);
  res.status(status).json({ error: { code, message } });
}

/** Middleware that authenticates the request (see the module documentation). */
export function tesseraAuth(verifier: Verifier, options: AuthOptions = {}): Middleware {
  const roles = options.roles ?? [];
  return (req, res, next) => {
    req.tessera = null;
    const token = tokenFromHeaders(req.headers);
    const done = (claims: Claims | null): void => {
      if (claims) {
        const missing = roles.filter((r) => !claims.roles.includes(r));
        if (missing.length > 0) return fail(res, 403, "forbidden", `missing role: ${missing.join(", ")}`);
      }
      req.tessera = claims;
      if (res.locals) res.locals["tessera"] = claims;
      next();
    };
    if (!token) {
      if (options.optional) return done(null);
      return fail(res, 401, "unauthenticated", "authentication required", "Bearer");
    }
    verifier.verify(token).then(done, (err: unknown) => {
      if (err instanceof TokenError) {
        if (options.optional) return done(null);
        return fail(res, 401, "unauthenticated", `invalid access token (${err.code})`, 'Bearer error="invalid_token"');
      }
      if (err instanceof JwksError) return fail(res, 503, "unavailable", "authentication is temporarily unavailable");
      next(err);
    });
  };
}
