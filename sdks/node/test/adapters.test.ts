/** Express middleware (a real listen on port 0) and the fetch-handler helpers. */

import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";

import express from "express";

import { type Claims, type Verifier, createVerifier, requestAuthenticator, tesseraAuth, tokenFromHeaders, withAuth } from "../src/index.js";
import { FakeClock, LocalServer, SigningKey, accessClaims } from "./helpers.js";

const APP = "app-1";
const NOW = 1_900_000_000;

describe("adapters", () => {
  const jwksServer = new LocalServer();
  let verifier: Verifier;
  let good: string;
  let plain: string;
  let otherApp: string;

  before(async () => {
    await jwksServer.start();
    const key = await SigningKey.create("k1");
    jwksServer.json("GET", "/.well-known/jwks.json", { keys: [key.jwk] });
    verifier = createVerifier({ baseUrl: jwksServer.url, audience: APP, clock: new FakeClock(NOW).fn });
    good = await key.sign(accessClaims(jwksServer.url, APP, NOW, { roles: ["admin"] }));
    plain = await key.sign(accessClaims(jwksServer.url, APP, NOW));
    otherApp = await key.sign(accessClaims(jwksServer.url, "app-2", NOW));
  });
  after(() => jwksServer.stop());

  test("Express middleware", async () => {
    const app = express();
    app.get("/me", tesseraAuth(verifier), (req, res) => {
      res.json({ sub: req.tessera?.sub, local: (res.locals["tessera"] as Claims).sid });
    });
    app.get("/admin", tesseraAuth(verifier, { roles: ["admin"] }), (req, res) => {
      res.json({ sub: req.tessera?.sub });
    });
    app.get("/maybe", tesseraAuth(verifier, { optional: true }), (req, res) => {
      res.json({ sub: req.tessera?.sub ?? null });
    });
    const listener = app.listen(0, "127.0.0.1");
    await new Promise((r) => listener.once("listening", r));
    const base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
    const get = (path: string, headers: Record<string, string> = {}) => fetch(base + path, { headers });
    try {
      let r = await get("/me", { authorization: `Bearer ${good}` });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { sub: "user-1", local: "session-1" });
      r = await get("/me", { cookie: `theme=dark; tessera_at=${plain}` });
      assert.deepEqual(await r.json(), { sub: "user-1", local: "session-1" });
      r = await get("/me");
      assert.equal(r.status, 401);
      assert.equal(r.headers.get("www-authenticate"), "Bearer");
      assert.deepEqual(await r.json(), { error: { code: "unauthenticated", message: "authentication required" } });
      r = await get("/me", { authorization: `Bearer ${otherApp}` });
      assert.equal(r.status, 401);
      assert.match(((await r.json()) as { error: { message: string } }).error.message, /invalid_audience/);
      assert.equal((await get("/admin", { authorization: `Bearer ${good}` })).status, 200);
      r = await get("/admin", { authorization: `Bearer ${plain}` });
      assert.equal(r.status, 403);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, "forbidden");
      assert.deepEqual(await (await get("/maybe")).json(), { sub: null });
      assert.deepEqual(await (await get("/maybe", { authorization: "Bearer junk" })).json(), { sub: null });
      assert.deepEqual(await (await get("/maybe", { authorization: `Bearer ${plain}` })).json(), { sub: "user-1" });
    } finally {
      listener.close();
    }
  });

  test("fetch-handler helpers", async () => {
    const authenticate = requestAuthenticator(verifier);
    const req = (headers: Record<string, string> = {}) => new Request("http://app.test/x", { headers });
    assert.equal((await authenticate(req({ authorization: `Bearer ${good}` })))?.sub, "user-1");
    assert.equal((await authenticate(req({ cookie: `tessera_at=${plain}` })))?.sub, "user-1");
    assert.equal(await authenticate(req()), null);
    assert.equal(await authenticate(req({ authorization: `Bearer ${otherApp}` })), null);

    const handler = withAuth(verifier, (_req, claims) => Response.json({ sub: claims.sub }), { roles: ["admin"] });
    let r = await handler(req({ authorization: `Bearer ${good}` }));
    assert.deepEqual(await r.json(), { sub: "user-1" });
    r = await handler(req());
    assert.equal(r.status, 401);
    assert.equal(r.headers.get("www-authenticate"), "Bearer");
    r = await handler(req({ authorization: `Bearer ${plain}` }));
    assert.equal(r.status, 403);
  });
});

test("fetch helpers: a JWKS outage is 503, not 401", async () => {
  const down = await new LocalServer().start();
  try {
    down.json("GET", "/.well-known/jwks.json", { error: { code: "internal", message: "boom" } }, 500);
    const key = await SigningKey.create("k1");
    const v = createVerifier({ baseUrl: down.url, audience: APP, clock: new FakeClock(NOW).fn });
    const token = await key.sign(accessClaims(down.url, APP, NOW));
    const handler = withAuth(v, () => new Response("never"));
    const r = await handler(new Request("http://app.test/", { headers: { authorization: `Bearer ${token}` } }));
    assert.equal(r.status, 503);
  } finally {
    await down.stop();
  }
});

describe("tokenFromHeaders", () => {
  test("bearer first, then the tessera_at cookie", () => {
    assert.equal(tokenFromHeaders({ authorization: "Bearer abc.def.ghi" }), "abc.def.ghi");
    assert.equal(tokenFromHeaders({ Authorization: "bearer abc" }), "abc");
    assert.equal(tokenFromHeaders({ authorization: "Bearer h", cookie: "tessera_at=c" }), "h");
    assert.equal(tokenFromHeaders(new Headers({ cookie: "a=1; tessera_at=tok; tessera_session=tss_x" })), "tok");
    assert.equal(tokenFromHeaders([["Cookie", "x=1"], ["Cookie", 'tessera_at="q"']]), "q");
    assert.equal(tokenFromHeaders({ authorization: "Basic dXNlcjpwdw==", cookie: "tessera_at=tok" }), "tok");
  });

  test("nothing", () => {
    assert.equal(tokenFromHeaders({}), null);
    assert.equal(tokenFromHeaders({ authorization: "Bearer " }), null);
    assert.equal(tokenFromHeaders({ cookie: "tessera_at=" }), null);
    assert.equal(tokenFromHeaders({ cookie: "xtessera_at=tok" }), null);
    assert.equal(tokenFromHeaders({ cookie: undefined }), null);
  });
});
