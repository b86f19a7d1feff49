/**
 * Standard Webhooks verification (and signing, for tests and tools).
 *
 * Tessera signs each delivery as `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`
 * in `webhook-signature` (several, space-separated, while secrets rotate), with
 * `webhook-id` and `webhook-timestamp` (Unix seconds). Secrets are
 * `whsec_<base64>`. Receivers reject timestamps more than five minutes off.
 * Same rules as `core/src/webhooks.rs`; `sdks/testdata/webhooks.json` keeps
 * them in step.
 */

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

import { WebhookError } from "./errors.js";
import { type HeaderInput, headerValues } from "./headers.js";

export const SECRET_PREFIX = "whsec_";
/** How far `webhook-timestamp` may be from now, in seconds. */
export const TOLERANCE_SECONDS = 300;

export type WebhookBody = string | Uint8Array;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function keyOf(secret: string): Buffer {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (!b64 || !BASE64.test(b64) || b64.replace(/=+$/, "").length % 4 === 1) {
    throw new WebhookError("invalid_secret", "a webhook secret is whsec_ followed by base64");
  }
  return Buffer.from(b64, "base64");
}

function bytes(body: WebhookBody): Buffer {
  return typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/** A new random secret, `whsec_…`. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString("base64");
}

/** The `webhook-signature` value (`v1,<base64>`) of one message. */
export function signWebhook(secret: string, msgId: string, timestamp: number, body: WebhookBody): string {
  const mac = createHmac("sha256", keyOf(secret));
  mac.update(`${msgId}.${Math.floor(timestamp)}.`, "utf8");
  mac.update(bytes(body));
  return `v1,${mac.digest("base64")}`;
}

/** Headers of a signed delivery, as Tessera sends it (several secrets give several signatures). */
export function webhookHeaders(
  secret: string | readonly string[],
  body: WebhookBody,
  options: { msgId?: string; timestamp?: number } = {},
): Record<string, string> {
  const secrets = typeof secret === "string" ? [secret] : secret;
  const msgId = options.msgId ?? `msg_${randomBytes(16).toString("base64url")}`;
  const ts = Math.floor(options.timestamp ?? Date.now() / 1000);
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(ts),
    "webhook-signature": secrets.map((s) => signWebhook(s, msgId, ts, body)).join(" "),
  };
}

export interface VerifyWebhookOptions {
  /** Current Unix time in seconds (default: the system clock). */
  now?: number;
  /** Seconds of tolerance (default 300). */
  tolerance?: number;
}

function header(headers: HeaderInput, name: string): string {
  const value = headerValues(headers, name)[0]?.trim();
  if (!value) throw new WebhookError("malformed", `the ${name} header is missing`);
  return value;
}

/** Check a delivery's signature and timestamp; throws `WebhookError` if wrong. */
export function verifyWebhookSignature(
  secret: string,
  headers: HeaderInput,
  body: WebhookBody,
  options: VerifyWebhookOptions = {},
): void {
  const msgId = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!/^[+-]?\d+$/.test(timestamp)) throw new WebhookError("malformed", "webhook-timestamp is not a number");
  const ts = Number(timestamp);
  const now = options.now ?? Date.now() / 1000;
  if (Math.abs(now - ts) > (options.tolerance ?? TOLERANCE_SECONDS)) {
    throw new WebhookError("timestamp_out_of_tolerance", "webhook-timestamp is more than five minutes off");
  }
  const expected = Buffer.from(signWebhook(secret, msgId, ts, body), "utf8");
  let matched = false;
  for (const candidate of signatures.split(" ")) {
    if (!candidate.startsWith("v1,")) continue;
    const given = Buffer.from(candidate, "utf8");
    // Constant time for equal lengths; a length mismatch reveals nothing secret.
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  if (!matched) throw new WebhookError("invalid_signature", "no webhook signature matches");
}

/**
 * Verify a delivery and return its JSON payload (`{type, timestamp, data}`).
 * `body` must be the raw request body, exactly as received.
 */
export function verifyWebhook(
  secret: string,
  headers: HeaderInput,
  body: WebhookBody,
  options: VerifyWebhookOptions = {},
): unknown {
  verifyWebhookSignature(secret, headers, body, options);
  try {
    return JSON.parse(bytes(body).toString("utf8"));
  } catch (err) {
    throw new WebhookError("malformed", "the webhook body is not JSON", { cause: err });
  }
}
