/** Webhooks: every case of sdks/testdata/webhooks.json, signing, and interop with `standardwebhooks`. */

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Webhook } from "standardwebhooks";

import {
  WebhookError,
  generateSecret,
  signWebhook,
  verifyWebhook,
  verifyWebhookSignature,
  webhookHeaders,
} from "../src/index.js";
import { TOLERANCE_SECONDS } from "../src/webhooks.js";
import { loadVectors } from "./helpers.js";

interface WebhookCase {
  name: string;
  description: string;
  secret: string;
  headers: Record<string, string>;
  body: string;
  now: number;
  valid: boolean;
  error?: string;
}
const vectors = loadVectors<{ tolerance: number; cases: WebhookCase[] }>("webhooks.json");

describe("webhook vectors", () => {
  test("tolerance matches", () => assert.equal(vectors.tolerance, TOLERANCE_SECONDS));
  for (const c of vectors.cases) {
    test(`${c.name}: ${c.description}`, () => {
      const body = new TextEncoder().encode(c.body);
      if (c.valid) {
        const payload = verifyWebhook(c.secret, c.headers, body, { now: c.now }) as { type: string };
        assert.equal(payload.type, "user.created");
        verifyWebhook(c.secret, new Headers(c.headers), c.body, { now: c.now });
      } else {
        assert.throws(
          () => verifyWebhook(c.secret, c.headers, body, { now: c.now }),
          (e: unknown) => e instanceof WebhookError && e.code === c.error,
        );
      }
    });
  }
});

describe("webhook signing", () => {
  const c = vectors.cases[0]!;

  test("signing reproduces the vector signature", () => {
    const sig = signWebhook(c.secret, c.headers["webhook-id"]!, Number(c.headers["webhook-timestamp"]), c.body);
    assert.equal(sig, c.headers["webhook-signature"]);
  });

  test("header names are case-insensitive; Node header objects work", () => {
    const upper = Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k.toUpperCase(), v]));
    verifyWebhook(c.secret, upper, Buffer.from(c.body), { now: c.now });
    verifyWebhook(c.secret, Object.entries(c.headers), c.body, { now: c.now });
  });

  test("a missing header is malformed", () => {
    const { "webhook-signature": _, ...rest } = c.headers;
    assert.throws(() => verifyWebhook(c.secret, rest, c.body, { now: c.now }), { code: "malformed" });
  });

  test("rotation: every active secret verifies, another does not", () => {
    const [old, next, other] = [generateSecret(), generateSecret(), generateSecret()];
    assert.match(old, /^whsec_/);
    const body = '{"type":"user.updated","timestamp":"2030-01-01T00:00:00Z","data":{}}';
    const headers = webhookHeaders([old, next], body, { msgId: "msg_1", timestamp: 1_900_000_000 });
    assert.equal(headers["webhook-signature"]!.split(" ").length, 2);
    for (const s of [old, next]) verifyWebhook(s, headers, body, { now: 1_900_000_100 });
    assert.throws(() => verifyWebhookSignature(other, headers, body, { now: 1_900_000_100 }), {
      code: "invalid_signature",
    });
  });

  test("a bad secret is reported", () => {
    assert.throws(() => signWebhook("whsec_not base64!", "m", 1, "{}"), { code: "invalid_secret" });
  });
});

describe("interop with the standardwebhooks package", () => {
  const body = '{"type":"user.created","timestamp":"2030-01-01T00:00:00Z","data":{"name":"Ada — ✓"}}';

  test("we accept what the official library signs", () => {
    const secret = generateSecret();
    const now = new Date();
    const signature = new Webhook(secret).sign("msg_interop_1", now, body);
    const headers = {
      "webhook-id": "msg_interop_1",
      "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
      "webhook-signature": signature,
    };
    const payload = verifyWebhook(secret, headers, body) as { data: { name: string } };
    assert.equal(payload.data.name, "Ada — ✓");
  });

  test("the official library accepts what we sign (also during rotation)", () => {
    const [a, b] = [generateSecret(), generateSecret()];
    const headers = webhookHeaders([a, b], body);
    for (const s of [a, b]) assert.equal((new Webhook(s).verify(body, headers) as { type: string }).type, "user.created");
    assert.throws(() => new Webhook(generateSecret()).verify(body, headers));
  });

  test("both reject a tampered body", () => {
    const secret = generateSecret();
    const headers = webhookHeaders(secret, body);
    const tampered = body.replace("Ada", "Eve");
    assert.throws(() => new Webhook(secret).verify(tampered, headers));
    assert.throws(() => verifyWebhook(secret, headers, tampered), { code: "invalid_signature" });
  });
});
