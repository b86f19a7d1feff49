/**
 * End to end against a real Tessera server; runs only when TESSERA_BIN is set
 * (reported as skipped otherwise). Starts `$TESSERA_BIN serve` on a free
 * loopback port with a throwaway SQLite database, signs a user up, verifies the
 * access token, rotates the signing key with `$TESSERA_BIN keys rotate`, signs
 * in again and verifies the new token (a JWKS refetch on the new kid), then
 * uses the server API with the bootstrap API key. Routes: docs/contract.md section 5.
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { decodeProtectedHeader } from "jose";

import { ApiError, createClient, createVerifier } from "../src/index.js";

const BIN = process.env["TESSERA_BIN"];
const PASSWORD = "correct horse battery staple 42";

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const kidOf = (token: string): string => String(decodeProtectedHeader(token).kid);

test("end to end against tessera serve", { skip: BIN ? false : "set TESSERA_BIN to the tessera binary to run the end-to-end test", timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tessera-e2e-"));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const apiKey = `tsk_${randomBytes(32).toString("base64url")}`;
  assert.equal(apiKey.length, 4 + 43);
  const dbUrl = `sqlite://${dir}/t.db`;
  const logPath = join(dir, "serve.log");
  const log = openSync(logPath, "w");
  let proc: ChildProcess | undefined;
  const logTail = () => readFileSync(logPath, "utf8").slice(-4000);
  try {
    proc = spawn(BIN!, ["serve"], {
      cwd: dir,
      stdio: ["ignore", log, log],
      env: {
        ...process.env,
        TESSERA_DATABASE_URL: dbUrl,
        TESSERA_LISTEN: `127.0.0.1:${port}`,
        TESSERA_BASE_URL: baseUrl,
        TESSERA_ADMIN_API_KEY: apiKey,
        TESSERA_DEV: "1",
        TESSERA_RATE_LIMITS: "off",
      },
    });
    let exited: number | null = null;
    proc.on("exit", (code) => (exited = code ?? -1));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (exited !== null) assert.fail(`tessera serve exited with ${exited}:\n${logTail()}`);
      try {
        if ((await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) })).status === 200) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) assert.fail(`tessera serve did not answer /healthz within 60 s:\n${logTail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const admin = { authorization: `Bearer ${apiKey}` };
    let r = await fetch(`${baseUrl}/v1/admin/apps/default`, { headers: admin });
    assert.equal(r.status, 200, await r.clone().text());
    const appId = ((await r.json()) as { id: string }).id;

    const email = `ada+${randomBytes(4).toString("hex")}@example.test`;
    const post = (path: string, body: unknown) =>
      fetch(baseUrl + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    r = await post("/v1/sign-up", { email, password: PASSWORD });
    assert.equal(r.status, 201, await r.clone().text());
    const signedUp = (await r.json()) as { access_token: string; user: { id: string } };
    const userId = signedUp.user.id;

    const verifier = createVerifier({ baseUrl, audience: appId });
    const claims = await verifier.verify(signedUp.access_token);
    assert.equal(claims.sub, userId);
    assert.equal(claims.iss, baseUrl);
    assert.ok(claims.aud === appId || (Array.isArray(claims.aud) && claims.aud.includes(appId)));
    assert.ok(claims.sid);
    assert.equal(verifier.jwks.fetchCount, 1);

    const rotate = spawnSync(BIN!, ["keys", "rotate"], {
      cwd: dir,
      env: { ...process.env, TESSERA_DATABASE_URL: dbUrl },
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(rotate.status, 0, `${rotate.stdout}${rotate.stderr}`);

    r = await post("/v1/sign-in/password", { email, password: PASSWORD });
    assert.equal(r.status, 200, await r.clone().text());
    const access = ((await r.json()) as { access_token: string }).access_token;
    assert.notEqual(kidOf(access), kidOf(signedUp.access_token), "keys rotate did not change the signing key");
    assert.equal((await verifier.verify(access)).sub, userId);
    assert.equal(verifier.jwks.fetchCount, 2); // one refetch, for the new kid
    assert.equal((await verifier.verify(signedUp.access_token)).sub, userId); // rotation is additive

    const client = createClient({ baseUrl, apiKey });
    const user = await client.getUser(userId);
    assert.equal(user.id, userId);
    assert.equal(user.email, email);
    assert.equal((await client.getUserByEmail(email.toUpperCase()))?.id, userId);
    let listed = false;
    for await (const u of client.iterUsers()) if (u.id === userId) listed = true;
    assert.ok(listed);

    const session = () => fetch(`${baseUrl}/v1/session`, { headers: { authorization: `Bearer ${access}` } });
    assert.equal((await session()).status, 200);
    assert.ok((await client.revokeSessions(userId)) >= 2); // the sign-up and the sign-in session
    assert.equal((await session()).status, 401);

    await assert.rejects(createClient({ baseUrl, apiKey: `tsk_${"A".repeat(43)}` }).getUser(userId), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.status, 401);
      return true;
    });
  } finally {
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const gone = new Promise((r) => proc!.once("exit", r));
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc!.kill("SIGKILL"), 10_000);
      await gone;
      clearTimeout(timer);
    }
    closeSync(log);
    rmSync(dir, { recursive: true, force: true });
  }
});
