// A person registers a passkey on the hosted pages and signs in with it, in
// headless Chromium (Debian's /usr/bin/chromium) against a real
// `tessera serve`, with the browser's own virtual WebAuthn authenticator
// (DevTools WebAuthn domain) standing in for the platform authenticator.
//
// Run: TESSERA_BIN=target/debug/tessera node --test e2e/browser
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.TESSERA_BIN || resolve(here, '../../target/debug/tessera');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const EMAIL = 'grace@example.com';
const PASSWORD = 'correct horse battery staple 42';

let dir;
let server;
let serverLog = '';
let base;
let browser;

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function waitHealthy(url, deadlineMs) {
  const until = Date.now() + deadlineMs;
  let last;
  while (Date.now() < until) {
    if (server.exitCode !== null) break;
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
      last = `status ${res.status}`;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`tessera serve did not become healthy (${last}); log:\n${serverLog}`);
}

before(async () => {
  assert.ok(existsSync(BIN), `the tessera binary is missing at ${BIN} (set TESSERA_BIN)`);
  assert.ok(existsSync(CHROMIUM), `Chromium is missing at ${CHROMIUM} (apt-get install chromium)`);
  dir = mkdtempSync(join(tmpdir(), 'tessera-browser-'));
  const port = await freePort();
  // The public URL is on `localhost`, so the relying party id is `localhost`
  // (browsers refuse WebAuthn on IP addresses, and localhost is a secure context).
  base = `http://localhost:${port}`;
  server = spawn(BIN, ['serve'], {
    env: {
      ...process.env,
      TESSERA_DATABASE_URL: `sqlite://${join(dir, 'tessera.db')}`,
      TESSERA_LISTEN: `127.0.0.1:${port}`,
      TESSERA_BASE_URL: base,
      TESSERA_DEV: '1',
      TESSERA_LOG_FORMAT: 'text',
      RUST_LOG: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  await waitHealthy(`http://127.0.0.1:${port}`, 60_000);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Resolve `localhost` to the address the server listens on.
      '--host-resolver-rules=MAP localhost 127.0.0.1',
    ],
  });
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => {
      const t = setTimeout(() => { server.kill('SIGKILL'); r(); }, 5_000);
      server.once('exit', () => { clearTimeout(t); r(); });
    });
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('register a passkey on the hosted page, sign out, sign in with it (and use it as a second factor)', async (t) => {
  // A fresh context is a fresh profile: no cookies, no credentials.
  const context = await browser.newContext();
  const page = await context.newPage();
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  t.after(async () => {
    await context.close();
  });
  const diagnose = () => `browser console:\n${consoleLines.join('\n')}\nserver log (tail):\n${serverLog.slice(-4000)}`;

  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  // Sign up with a password on the hosted page.
  await page.goto(`${base}/sign-up`);
  await page.fill('#email', EMAIL);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(/\/account$/), page.click('button[type=submit]')]);
  assert.match(await page.textContent('main'), new RegExp(EMAIL));
  const me = await (await context.request.get(`${base}/v1/session`)).json();
  const userId = me.user.id;

  // Open the passkeys page and register one.
  await Promise.all([page.waitForURL(/\/passkeys$/), page.click('#passkeys-link')]);
  await page.waitForSelector('#passkey-register', { state: 'visible' });
  await page.fill('#passkey-name', 'Chromium');
  await Promise.all([
    page.waitForSelector('.passkey-row', { timeout: 20_000 }),
    page.click('#passkey-register'),
  ]).catch((e) => assert.fail(`registration failed: ${e.message}\n${diagnose()}`));
  assert.equal(await page.inputValue('.passkey-row .passkey-name'), 'Chromium');
  const listed = await (await context.request.get(`${base}/v1/passkeys`)).json();
  assert.equal(listed.passkeys.length, 1, JSON.stringify(listed));

  // Sign out.
  await page.goto(`${base}/account`);
  await Promise.all([page.waitForURL(/\/sign-in$/), page.click('form[action^="sign-out"] button')]);
  assert.equal((await context.request.get(`${base}/v1/session`)).status(), 401);

  // Sign in with the passkey, no email typed.
  await page.waitForSelector('#passkey-sign-in', { state: 'visible' });
  assert.equal(await page.inputValue('#email'), '');
  await Promise.all([
    page.waitForURL(/\/account$/, { timeout: 20_000 }),
    page.click('#passkey-sign-in'),
  ]).catch((e) => assert.fail(`passkey sign-in failed: ${e.message}\n${diagnose()}`));
  assert.match(await page.textContent('main'), new RegExp(EMAIL));
  const session = await (await context.request.get(`${base}/v1/session`)).json();
  assert.equal(session.user.id, userId);
  assert.equal(session.user.email, EMAIL);
  assert.ok(session.session.amr.includes('mfa'), JSON.stringify(session.session.amr));
  assert.ok(
    session.session.amr.includes('hwk') || session.session.amr.includes('swk'),
    JSON.stringify(session.session.amr),
  );

  // The browser's authenticator holds exactly one credential: the
  // discoverable one for this user on `localhost`.
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true);
  assert.equal(credentials[0].rpId, 'localhost');
  const handle = Buffer.from(credentials[0].userHandle, 'base64').toString('hex');
  assert.equal(handle, userId.replace(/-/g, ''));

  // A password sign-in now asks for a second factor; the passkey gives it.
  await page.goto(`${base}/account`);
  await Promise.all([page.waitForURL(/\/sign-in$/), page.click('form[action^="sign-out"] button')]);
  await page.fill('#email', EMAIL);
  await page.fill('#password', PASSWORD);
  await page.click('form[method=post] button[type=submit]');
  await page.waitForSelector('#passkey-mfa', { state: 'visible', timeout: 20_000 })
    .catch((e) => assert.fail(`no passkey button on the MFA step: ${e.message}\n${diagnose()}`));
  await Promise.all([
    page.waitForURL(/\/account$/, { timeout: 20_000 }),
    page.click('#passkey-mfa'),
  ]).catch((e) => assert.fail(`passkey MFA failed: ${e.message}\n${diagnose()}`));
  const mfa = await (await context.request.get(`${base}/v1/session`)).json();
  assert.equal(mfa.user.id, userId);
  assert.ok(mfa.session.amr.includes('pwd') && mfa.session.amr.includes('mfa'), JSON.stringify(mfa.session.amr));
});
