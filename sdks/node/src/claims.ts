/**
 * The verified claims of a Tessera access token: a typed view over the JWT
 * payload (RFC 9068, docs/contract.md section 3); the full payload stays in `raw`.
 */

import type { JWTPayload } from "jose";

export interface Claims {
  /** The user id. */
  sub: string;
  iss: string;
  /** The app id (a string; an array if the token names several audiences). */
  aud: string | string[];
  /** The app id the token was issued to. */
  clientId: string | undefined;
  exp: number;
  iat: number | undefined;
  /** The session id. */
  sid: string | undefined;
  jti: string | undefined;
  pool: string | undefined;
  /** Authentication methods (RFC 8176): `pwd`, `otp`, `hwk`/`swk`, `mfa`. */
  amr: string[];
  /** The user's roles in the app (empty when absent). */
  roles: string[];
  email: string | undefined;
  emailVerified: boolean | undefined;
  /** Every claim of the token, as signed. */
  raw: JWTPayload;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const strList = (v: unknown): string[] =>
  typeof v === "string" ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];

/** Build `Claims` from a payload whose `sub`, `iss`, `aud` and `exp` were checked. */
export function claimsFromPayload(payload: JWTPayload): Claims {
  return {
    sub: payload.sub as string,
    iss: payload.iss as string,
    aud: typeof payload.aud === "string" ? payload.aud : strList(payload.aud),
    clientId: str(payload["client_id"]),
    exp: payload.exp as number,
    iat: typeof payload.iat === "number" ? payload.iat : undefined,
    sid: str(payload["sid"]),
    jti: str(payload.jti),
    pool: str(payload["pool"]),
    amr: strList(payload["amr"]),
    roles: strList(payload["roles"]),
    email: str(payload["email"]),
    emailVerified: typeof payload["email_verified"] === "boolean" ? payload["email_verified"] : undefined,
    raw: payload,
  };
}
