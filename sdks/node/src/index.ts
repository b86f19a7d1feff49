/**
 * Tessera SDK for TypeScript: verify access tokens and webhooks, call the
 * server API, and authenticate Express or fetch-style handlers.
 *
 * ```ts
 * import { createVerifier, tokenFromHeaders } from "@tessera/sdk";
 * const verifier = createVerifier({ baseUrl: "https://auth.example.com", audience: "<app id>" });
 * const claims = await verifier.verifyOrNull(tokenFromHeaders(req.headers));
 * ```
 */

export type { Claims } from "./claims.js";
export { type ClientOptions, type ListUsersOptions, type RequestOptions, type TesseraClient, type User, type UserPage, createClient } from "./client.js";
export {
  API_ERROR_CODES,
  ApiError,
  type ApiErrorCode,
  JwksError,
  TesseraError,
  TokenError,
  type TokenErrorCode,
  WebhookError,
  type WebhookErrorCode,
} from "./errors.js";
export { type AuthOptions, type AuthRequest, type AuthResponse, type Middleware, tesseraAuth } from "./express.js";
export { authenticateRequest, requestAuthenticator, withAuth } from "./fetch.js";
export type { HeaderInput } from "./headers.js";
export { ALLOWED_ALGORITHMS, type FetchLike, JwksCache } from "./jwks.js";
export { ACCESS_TOKEN_COOKIE, bearerToken, tokenFromHeaders } from "./tokens.js";
export { type Verifier, type VerifierOptions, createVerifier } from "./verifier.js";
export {
  type VerifyWebhookOptions,
  type WebhookBody,
  generateSecret,
  signWebhook,
  verifyWebhook,
  verifyWebhookSignature,
  webhookHeaders,
} from "./webhooks.js";
