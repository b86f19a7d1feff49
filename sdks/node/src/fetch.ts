/**
 * Helpers for fetch-style handlers (`(req: Request) => Response`: Node's
 * built-in server adapters, Bun, Deno, edge runtimes, Hono, Next.js route
 * handlers): authenticate a `Request`, or wrap a handler so it runs only for
 * an authenticated caller.
 */

import type { Claims } from "./claims.js";
import { JwksError } from "./errors.js";
import { tokenFromHeaders } from "./tokens.js";
import type { Verifier } from "./verifier.js";

/** The caller's claims, or `null` when not authenticated (a JWKS outage rejects). */
export async function authenticateRequest(verifier: Verifier, req: Request): Promise<Claims | null> {
  return verifier.verifyOrNull(tokenFromHeaders(req.headers));
}

/** `(req) => Promise<Claims | null>` bound to one verifier. */
export function requestAuthenticator(verifier: Verifier): (req: Request) => Promise<Claims | null> {
  return (req) => authenticateRequest(verifier, req);
}

function envelope(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return Response.json({ error: { code, message } }, { status, headers });
}

/**
 * Wrap a handler so it runs only for an authenticated caller (with `roles`);
 * others get 401 (403 for a missing role, 503 when the JWKS is unavailable).
 */
export function withAuth(
  verifier: Verifier,
  handler: (req: Request, claims: Claims) => Response | Promise<Response>,
  options: { roles?: readonly string[] } = {},
): (req: Request) => Promise<Response> {
  return async (req) => {
    let claims: Claims | null;
    try {
      claims = await authenticateRequest(verifier, req);
    } catch (err) {
      if (err instanceof JwksError) return envelope(503, "unavailable", "authentication is temporarily unavailable");
      throw err;
    }
    if (!claims) {
      return envelope(401, "unauthenticated", "authentication required", { "WWW-Authenticate": "Bearer" });
    }
    const missing = (options.roles ?? []).filter((r) => !claims.roles.includes(r));
    if (missing.length > 0) return envelope(403, "forbidden", `missing role: ${missing.join(", ")}`);
    return handler(req, claims);
  };
}
