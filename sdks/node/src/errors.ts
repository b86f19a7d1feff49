/**
 * Typed failures of the SDK.
 *
 * Every failure is a `TesseraError` with a stable `code`, so callers branch on
 * the reason without parsing messages. Token codes are the names used by the
 * shared vectors (`sdks/testdata/tokens.json`), webhook codes those of
 * `sdks/testdata/webhooks.json`. Messages never contain tokens, secrets or keys.
 */

export class TesseraError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Why an access token was rejected. */
export type TokenErrorCode =
  | "malformed"
  | "unsupported_algorithm"
  | "unknown_key"
  | "invalid_signature"
  | "invalid_token_type"
  | "expired"
  | "not_yet_valid"
  | "invalid_audience"
  | "invalid_issuer"
  | "invalid_token";

/** The access token was rejected: the caller is not authenticated. */
export class TokenError extends TesseraError {
  declare readonly code: TokenErrorCode;
  constructor(code: TokenErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The JWKS could not be fetched or parsed: an outage, not a bad token. */
export class JwksError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("jwks_unavailable", message, options);
  }
}

/** Why a webhook delivery was rejected. */
export type WebhookErrorCode =
  | "invalid_signature"
  | "timestamp_out_of_tolerance"
  | "malformed"
  | "invalid_secret";

/** A webhook delivery failed verification. */
export class WebhookError extends TesseraError {
  declare readonly code: WebhookErrorCode;
  constructor(code: WebhookErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * The server API answered with an error (`status` is the HTTP status and
 * `code` the envelope's `error.code`), or no answer came: then `status` is
 * `null` and `code` is `timeout` or `connection_error`.
 */
export class ApiError extends TesseraError {
  readonly status: number | null;
  constructor(status: number | null, code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}

/**
 * Every `code` the server API answers in its error envelope: `ApiError.code`
 * is one of these when `status` is not `null`. Checked against
 * `sdks/testdata/error-codes.json`, generated from the server.
 */
export const API_ERROR_CODES = [
  /** Email or password wrong, or no such account (never says which). */
  "invalid_credentials",
  /** The request is malformed (unparseable JSON, wrong content type). */
  "bad_request",
  /** Input failed validation; `field` names the offending field. */
  "invalid_input",
  /** The email address is not acceptable. */
  "invalid_email",
  /** The password breaks the policy (too short, too long, too guessable). */
  "weak_password",
  /** Another account in the pool already uses this email. */
  "email_taken",
  /** An external identity is already linked to an account. */
  "identity_taken",
  /** A unique value (slug, name) is already in use. */
  "conflict",
  /** The thing asked for does not exist (or the caller may not see it). */
  "not_found",
  /** The account is disabled. */
  "user_disabled",
  /** The account must verify its email address first. */
  "email_not_verified",
  /** A token is malformed, forged, or unknown. */
  "invalid_token",
  /** A token was valid once and has expired. */
  "token_expired",
  /** A spent refresh token was presented again; the session is revoked. */
  "refresh_token_reused",
  /** The session was revoked or has expired. */
  "session_expired",
  /** No credentials were presented, or they do not identify anyone. */
  "unauthenticated",
  /** The caller is known but may not do this. */
  "forbidden",
  /** Too many attempts; try again after the given delay. */
  "rate_limited",
  /** A second factor is required to finish signing in. */
  "mfa_required",
  /** An account with the external identity's email exists; sign in to it and link explicitly. */
  "account_link_required",
  /** The credential or identity is the user's last way to sign in. */
  "last_sign_in_method",
  /** The action needs a recent sign-in or the current password again. */
  "reauthentication_required",
  /** An external provider failed or answered something unusable. */
  "provider_error",
  /** The sign-in method is not enabled for this app. */
  "method_disabled",
  /** A webhook endpoint URL is not https:// or reaches a non-public address. */
  "invalid_webhook_url",
  /** The value is larger than allowed. */
  "too_large",
  /** The store failed (connection lost, timeout, unexpected database state). */
  "storage_error",
  /** The configuration is unusable (missing or malformed key, bad URL). */
  "config_error",
  /** A bug or an unexpected failure inside Tessera. */
  "internal_error",
  /** A known route called with a method it does not serve (HTTP only). */
  "method_not_allowed",
  /** The request took longer than the server allows (HTTP only). */
  "timeout",
] as const;

/** A code of the server API's error envelope. */
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];
