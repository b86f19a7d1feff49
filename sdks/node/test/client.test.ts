/** The server-API client against a small local HTTP server (no mock objects). */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { ApiError, createClient } from "../src/index.js";
import { LocalServer, type Recorded } from "./helpers.js";

const API_KEY = `tsk_${"A".repeat(43)}`;

const user = (i: number, email: string) => ({
  id: `u${i}`,
  pool_id: "pool-1",
  email,
  email_verified: true,
  name: `User ${i}`,
  metadata: { plan: "pro" },
  disabled: false,
  created_at: "2026-11-22T06:00:00.123456789Z",
  updated_at: "2026-11-22T07:00:00+00:00",
});
const USERS = ["ada@example.test", "bob@example.test", "ADA.LOVELACE@example.test", "carol@example.test", "dan@example.test"].map(
  (e, i) => user(i, e),
);

/** GET /v1/admin/users: email substring search, cursor = last id, limit (default 2). */
function listRoute(req: Recorded): [number, unknown] {
  const email = req.query.get("email");
  const cursor = req.query.get("cursor");
  const limit = Number(req.query.get("limit") ?? 2);
  let rows = USERS.filter((u) => email === null || u.email.toLowerCase().includes(email.toLowerCase()));
  if (cursor !== null) rows = rows.slice(rows.findIndex((u) => u.id === cursor) + 1);
  const page = rows.slice(0, limit);
  return [200, { users: page, next_cursor: rows.length > limit ? page[page.length - 1]!.id : null }];
}

describe("server-API client", () => {
  const server = new LocalServer();
  before(async () => {
    await server.start();
    server.route("GET", "/v1/admin/users", listRoute);
    for (const u of USERS) server.json("GET", `/v1/admin/users/${u.id}`, u);
    server.json("DELETE", "/v1/admin/users/u1/sessions", { revoked: 3 });
    server.json("GET", "/v1/admin/users/missing", { error: { code: "not_found", message: "no such user" } }, 404);
    server.route("GET", "/v1/admin/users/bare", () => [502, null]);
    server.route("GET", "/v1/admin/users/slow", () => new Promise((r) => setTimeout(() => r([200, user(9, "slow@x")]), 1000)));
  });
  after(() => server.stop());
  const client = () => createClient({ baseUrl: `${server.url}/`, apiKey: API_KEY });
  const last = () => server.requests[server.requests.length - 1]!;

  test("getUser sends the API key and parses the user", async () => {
    const u = await client().getUser("u1");
    assert.equal(u.id, "u1");
    assert.equal(u.email, "bob@example.test");
    assert.equal(u.poolId, "pool-1");
    assert.equal(u.emailVerified, true);
    assert.equal(u.disabled, false);
    assert.deepEqual(u.metadata, { plan: "pro" });
    assert.equal(u.createdAt?.toISOString(), "2026-11-22T06:00:00.123Z");
    assert.equal(u.updatedAt?.toISOString(), "2026-11-22T07:00:00.000Z");
    assert.equal(last().path, "/v1/admin/users/u1");
    assert.equal(last().headers.authorization, `Bearer ${API_KEY}`);
  });

  test("getUserByEmail picks the exact, case-insensitive match", async () => {
    const c = client();
    const u = await c.getUserByEmail("Ada@Example.test");
    assert.equal(u?.id, "u0");
    assert.equal((await c.getUserByEmail("ada.lovelace@example.test"))?.id, "u2");
    assert.equal(await c.getUserByEmail("nobody@example.test"), null);
  });

  test("getUserByEmail follows pages", async () => {
    USERS.push(user(9, "example.test"));
    try {
      assert.equal((await client().getUserByEmail("EXAMPLE.test"))?.id, "u9");
      assert.equal(last().query.get("email"), "EXAMPLE.test");
      assert.ok(last().query.get("cursor"));
    } finally {
      USERS.pop();
    }
  });

  test("pagination", async () => {
    const c = client();
    const page = await c.listUsers({ limit: 2 });
    assert.deepEqual(page.users.map((u) => u.id), ["u0", "u1"]);
    assert.equal(page.nextCursor, "u1");
    const page2 = await c.listUsers({ limit: 2, cursor: page.nextCursor });
    assert.deepEqual(page2.users.map((u) => u.id), ["u2", "u3"]);
    assert.deepEqual(Object.fromEntries(last().query), { cursor: "u1", limit: "2" });
    const all: string[] = [];
    for await (const u of c.iterUsers({ limit: 2 })) all.push(u.id);
    assert.deepEqual(all, USERS.map((u) => u.id));
  });

  test("revokeSessions", async () => {
    assert.equal(await client().revokeSessions("u1"), 3);
    assert.equal(last().method, "DELETE");
    assert.equal(last().path, "/v1/admin/users/u1/sessions");
  });

  test("the error envelope becomes an ApiError with status and code", async () => {
    await assert.rejects(client().getUser("missing"), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.status, 404);
      assert.equal(e.code, "not_found");
      assert.equal(e.message, "no such user");
      assert.ok(!String(e.stack).includes(API_KEY));
      return true;
    });
  });

  test("an error without envelope", async () => {
    await assert.rejects(client().getUser("bare"), { status: 502, code: "http_error" });
  });

  test("ids are escaped in paths", async () => {
    await assert.rejects(client().getUser("../users?email=x"), ApiError);
    assert.equal(last().path, "/v1/admin/users/..%2Fusers%3Femail%3Dx");
  });

  test("timeout", async () => {
    const started = Date.now();
    const c = createClient({ baseUrl: server.url, apiKey: API_KEY, timeoutMs: 200 });
    await assert.rejects(c.getUser("slow"), { status: null, code: "timeout" });
    assert.ok(Date.now() - started < 900);
  });

  test("connection error", async () => {
    const c = createClient({ baseUrl: "http://127.0.0.1:9", apiKey: API_KEY });
    await assert.rejects(c.getUser("u1"), { status: null, code: "connection_error" });
  });

  test("an injected fetch is used", async () => {
    const seen: string[] = [];
    const c = createClient({
      baseUrl: server.url,
      apiKey: API_KEY,
      fetch: (url, init) => {
        seen.push(url);
        return fetch(url, init);
      },
    });
    await c.getUser("u0");
    assert.deepEqual(seen, [`${server.url}/v1/admin/users/u0`]);
  });
});
