/** JWKS caching: fetched once, refetched on an unknown kid, at most once per cooldown. */

import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";

import { JwksError, TokenError, createVerifier } from "../src/index.js";
import { FakeClock, LocalServer, SigningKey, accessClaims } from "./helpers.js";

const JWKS = "/.well-known/jwks.json";
const APP = "app-1";
const NOW = 1_900_000_000;

describe("JWKS cache", () => {
  let server: LocalServer;
  beforeEach(async () => {
    server = await new LocalServer().start();
  });
  afterEach(() => server.stop());

  function setup(...keys: SigningKey[]) {
    const published = [...keys];
    server.route("GET", JWKS, () => [200, { keys: published.map((k) => k.jwk) }]);
    const clock = new FakeClock(NOW);
    const verifier = createVerifier({ baseUrl: server.url, audience: APP, clock: clock.fn, refetchCooldown: 30 });
    return { verifier, clock, published };
  }

  test("a second verify uses the cache", async () => {
    const k1 = await SigningKey.create("k1");
    const { verifier } = setup(k1);
    const token = await k1.sign(accessClaims(server.url, APP, NOW));
    assert.equal((await verifier.verify(token)).sub, "user-1");
    assert.equal((await verifier.verify(token)).sub, "user-1");
    assert.equal(server.count("GET", JWKS), 1);
  });

  test("concurrent first verifies share one fetch", async () => {
    const k1 = await SigningKey.create("k1");
    const { verifier } = setup(k1);
    const token = await k1.sign(accessClaims(server.url, APP, NOW));
    await Promise.all(Array.from({ length: 10 }, () => verifier.verify(token)));
    assert.equal(server.count("GET", JWKS), 1);
  });

  test("an unknown kid refetches once, then the cooldown holds", async () => {
    const [k1, k2, k3] = await Promise.all(["k1", "k2", "k3"].map((k) => SigningKey.create(k)));
    const { verifier, clock, published } = setup(k1!);
    await verifier.verify(await k1!.sign(accessClaims(server.url, APP, NOW)));
    assert.equal(server.count("GET", JWKS), 1);

    published.push(k2!); // rotation
    clock.now += 1;
    assert.equal((await verifier.verify(await k2!.sign(accessClaims(server.url, APP, NOW)))).sub, "user-1");
    assert.equal(server.count("GET", JWKS), 2);

    published.push(k3!);
    clock.now += 10;
    const token3 = await k3!.sign(accessClaims(server.url, APP, NOW));
    await assert.rejects(verifier.verify(token3), { code: "unknown_key" });
    await assert.rejects(verifier.verify(token3), (e) => e instanceof TokenError);
    assert.equal(server.count("GET", JWKS), 2);

    clock.now += 30;
    assert.equal((await verifier.verify(token3)).sub, "user-1");
    assert.equal(server.count("GET", JWKS), 3);
  });

  test("garbage kids cannot hammer the server", async () => {
    const [k1, ghost] = await Promise.all([SigningKey.create("k1"), SigningKey.create("ghost")]);
    const { verifier, clock } = setup(k1);
    await verifier.verify(await k1.sign(accessClaims(server.url, APP, NOW)));
    const bad = await ghost.sign(accessClaims(server.url, APP, NOW));
    for (let i = 0; i < 20; i++) {
      clock.now += 1;
      assert.equal(await verifier.verifyOrNull(bad), null);
    }
    assert.equal(server.count("GET", JWKS), 1 + 1);
  });

  test("the cache expires after jwksMaxAge", async () => {
    const k1 = await SigningKey.create("k1");
    server.json("GET", JWKS, { keys: [k1.jwk] });
    const clock = new FakeClock(NOW);
    const verifier = createVerifier({ baseUrl: server.url, audience: APP, clock: clock.fn, jwksMaxAge: 600 });
    const token = await k1.sign(accessClaims(server.url, APP, NOW, { exp: NOW + 10_000 }));
    await verifier.verify(token);
    clock.now += 601;
    await verifier.verify(token);
    assert.equal(server.count("GET", JWKS), 2);
  });

  test("an unreachable JWKS is an outage, not an anonymous caller", async () => {
    const k1 = await SigningKey.create("k1");
    server.json("GET", JWKS, { error: { code: "internal", message: "boom" } }, 500);
    const verifier = createVerifier({ baseUrl: server.url, audience: APP, clock: new FakeClock(NOW).fn });
    const token = await k1.sign(accessClaims(server.url, APP, NOW));
    await assert.rejects(verifier.verify(token), (e) => e instanceof JwksError);
    await assert.rejects(verifier.verifyOrNull(token), (e) => e instanceof JwksError);
    assert.equal(server.count("GET", JWKS), 1); // backoff before retrying
  });

  test("a failed refresh keeps the keys we have", async () => {
    const k1 = await SigningKey.create("k1");
    const { verifier, clock } = setup(k1);
    const token = await k1.sign(accessClaims(server.url, APP, NOW, { exp: NOW + 100_000 }));
    await verifier.verify(token);
    server.json("GET", JWKS, { error: { code: "internal", message: "boom" } }, 500);
    clock.now += 3601;
    assert.equal((await verifier.verify(token)).sub, "user-1");
    assert.equal((await verifier.verify(token)).sub, "user-1");
    assert.equal(server.count("GET", JWKS), 2);
  });

  test("ID tokens (typ JWT) are not access tokens", async () => {
    const k1 = await SigningKey.create("k1");
    const { verifier } = setup(k1);
    await assert.rejects(verifier.verify(await k1.sign(accessClaims(server.url, APP, NOW), "JWT")), {
      code: "invalid_token_type",
    });
    await verifier.verify(await k1.sign(accessClaims(server.url, APP, NOW), "application/at+jwt"));
  });

  test("an injected fetch is used", async () => {
    const k1 = await SigningKey.create("k1");
    const seen: string[] = [];
    const verifier = createVerifier({
      baseUrl: "https://auth.example.test",
      audience: APP,
      clock: new FakeClock(NOW).fn,
      fetch: async (url) => {
        seen.push(url);
        return Response.json({ keys: [k1.jwk] });
      },
    });
    const claims = await verifier.verify(await k1.sign(accessClaims("https://auth.example.test", APP, NOW)));
    assert.equal(claims.sub, "user-1");
    assert.deepEqual(seen, ["https://auth.example.test/.well-known/jwks.json"]);
  });
});
