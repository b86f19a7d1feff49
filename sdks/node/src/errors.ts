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
