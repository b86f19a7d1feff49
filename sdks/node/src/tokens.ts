/**
 * Finding the access token in a request (docs/contract.md sections 3 and 4):
 * `Authorization: Bearer …` first, then the `tessera_at` cookie.
 */

import { type HeaderInput, headerValues } from "./headers.js";

/** The cookie that carries the access JWT for server-rendered apps. */
export const ACCESS_TOKEN_COOKIE = "tessera_at";

/** The token of an `Authorization: Bearer <token>` value, else `null`. */
export function bearerToken(authorization: string | null | undefined): string | null {
  if (!authorization) return null;
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
  return match?.[1] ?? null;
}

/** The value of cookie `name` in a `Cookie` header, else `null`. */
export function cookieValue(cookieHeader: string, name: string): string | null {
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value || null;
  }
  return null;
}

/** The access token of a request: the bearer token, else the `tessera_at` cookie, else `null`. */
export function tokenFromHeaders(headers: HeaderInput): string | null {
  for (const value of headerValues(headers, "authorization")) {
    const token = bearerToken(value);
    if (token) return token;
  }
  for (const value of headerValues(headers, "cookie")) {
    const token = cookieValue(value, ACCESS_TOKEN_COOKIE);
    if (token) return token;
  }
  return null;
}
