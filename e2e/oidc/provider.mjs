// A real OpenID Connect provider (the `oidc-provider` package) for Tessera's
// end-to-end tests. Not a mock: discovery, JWKS, authorization, token and
// userinfo endpoints are the library's own. This script only adds what a test
// needs around it: fixed clients and accounts, a login form the test can POST
// with an account id (consent is granted automatically), and a test-only
// control API under /__test/ that can make the *next* token response carry a
// tampered ID token re-signed with the provider's own key, so attacks (wrong
// aud, past exp, wrong nonce, …) are produced deterministically.
//
// Usage:
//   node provider.mjs [--port N] [--redirect-uri URI]... [--auth-method M]
//                     [--conform-id-token-claims]
// --port 0 (the default) takes a free port. When listening, prints one line
//   ready http://127.0.0.1:PORT
// on stdout. Stop it with SIGTERM.
//
// Clients (confidential, `code` flow, PKCE allowed but not required):
//   tessera   / secret "tessera-client-secret"  redirect URIs from --redirect-uri
//   other-app / secret "other-client-secret"    redirect URI http://127.0.0.1:9/other/callback
// Accounts (POST /__test/accounts adds more):
//   alice  alice@example.com  email_verified true
//   bob    bob@example.com    email_verified false
//   carol  carol@example.com  email_verified true
//
// Control API (JSON):
//   POST /__test/tamper    {"claims": {...}, "expired": true, "wrong_key": true, "drop": [...]}
//                          the next token response's ID token gets these claims
//                          (e.g. {"aud": "other-app"}, {"nonce": "x"}), exp/iat in
//                          the past with "expired", a signature by an unpublished
//                          key with "wrong_key", claims in "drop" removed; then the
//                          control is spent.
//   POST /__test/accounts  {"id", "email", "email_verified", "name"}  add or replace
//   GET  /__test/state     {"tamper_pending", "tampered", "requests": [{route, params}]}
//                          (authorization parameters and token requests seen, no secrets)

import http from 'node:http';
import { parseArgs } from 'node:util';
import * as jose from 'jose';
import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'redirect-uri': { type: 'string', multiple: true, default: [] },
    'auth-method': { type: 'string', default: 'client_secret_basic' },
    'conform-id-token-claims': { type: 'boolean', default: false },
  },
});

const accounts = new Map([
  ['alice', { email: 'alice@example.com', email_verified: true, name: 'Alice Example' }],
  ['bob', { email: 'bob@example.com', email_verified: false, name: 'Bob Example' }],
  ['carol', { email: 'carol@example.com', email_verified: true, name: 'Carol Example' }],
]);

const control = { tamper: null, tampered: 0, requests: [] };

// The provider's signing key is made here (not by the library) so the control
// API can re-sign tampered ID tokens with the very key the JWKS publishes.
const kid = 'e2e-rs256';
const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
let strayKey = null; // an unpublished key, for the "wrong_key" attack

const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(args.port), '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'tessera',
      client_secret: 'tessera-client-secret',
      redirect_uris: args['redirect-uri'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: args['auth-method'],
    },
    {
      client_id: 'other-app',
      client_secret: 'other-client-secret',
      redirect_uris: ['http://127.0.0.1:9/other/callback'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['e2e-cookie-key-not-a-secret'] },
  scopes: ['openid', 'email', 'profile', 'offline_access'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // false: the scope's claims go into the ID token too (as Google, Microsoft
  // and Keycloak do); true: only userinfo has them (the library's default).
  conformIdTokenClaims: args['conform-id-token-claims'],
  responseTypes: ['code'],
  pkce: { required: () => false },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const account = accounts.get(id);
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...account };
      },
    };
  },
  // Consent is granted automatically: every requested scope and claim.
  async loadExistingGrant(ctx) {
    const { client, session, params } = ctx.oidc;
    const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
    const grant = grantId
      ? await ctx.oidc.provider.Grant.find(grantId)
      : new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope(String(params.scope || 'openid'));
    grant.addOIDCClaims(['sub', 'email', 'email_verified', 'name']);
    await grant.save();
    return grant;
  },
  renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
});

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson(ctx) {
  const text = await readBody(ctx.req);
  return text ? JSON.parse(text) : {};
}

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

async function tamperIdToken(idToken, spec) {
  const header = jose.decodeProtectedHeader(idToken);
  const payload = { ...jose.decodeJwt(idToken), ...(spec.claims || {}) };
  for (const name of spec.drop || []) delete payload[name];
  if (spec.expired) {
    payload.iat = nowSeconds() - 7200;
    payload.auth_time = payload.iat;
    payload.exp = nowSeconds() - 3600;
  }
  let key = privateKey;
  let keyId = header.kid;
  if (spec.wrong_key) {
    strayKey ??= (await jose.generateKeyPair('RS256')).privateKey;
    key = strayKey;
  }
  return new jose.SignJWT(payload)
    .setProtectedHeader({ ...header, alg: header.alg, kid: keyId })
    .sign(key);
}

provider.use(async (ctx, next) => {
  const path = ctx.path;

  // Test-only control API.
  if (path.startsWith('/__test/')) {
    ctx.type = 'json';
    if (path === '/__test/tamper' && ctx.method === 'POST') {
      control.tamper = await readJson(ctx);
      ctx.body = { ok: true };
    } else if (path === '/__test/accounts' && ctx.method === 'POST') {
      const a = await readJson(ctx);
      if (!a.id || !a.email) ctx.throw(400, 'id and email are required');
      accounts.set(a.id, {
        email: a.email,
        email_verified: a.email_verified === true,
        name: a.name ?? a.id,
      });
      ctx.body = { ok: true };
    } else if (path === '/__test/state' && ctx.method === 'GET') {
      ctx.body = {
        tamper_pending: control.tamper !== null,
        tampered: control.tampered,
        requests: control.requests,
      };
    } else {
      ctx.status = 404;
      ctx.body = { error: 'no such control' };
    }
    return;
  }

  // Login form (no consent screen: loadExistingGrant grants everything).
  const m = path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (m) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== m[1]) ctx.throw(400, 'interaction mismatch');
    if (!m[2] && ctx.method === 'GET') {
      ctx.type = 'html';
      ctx.body = `<!doctype html><title>Sign in to the test provider</title>
<form method="post" action="/interaction/${escapeHtml(details.uid)}/login">
<label>Account <input name="login" value=""></label>
<button type="submit">Sign in</button>
<p>client: ${escapeHtml(details.params.client_id)}, prompt: ${escapeHtml(details.prompt.name)}</p>
</form>`;
      return;
    }
    if (m[2] && ctx.method === 'POST') {
      const form = new URLSearchParams(await readBody(ctx.req));
      const accountId = form.get('login') || '';
      const result = accounts.has(accountId)
        ? { login: { accountId } }
        : { error: 'access_denied', error_description: 'unknown account' };
      const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
        mergeWithLastSubmission: false,
      });
      ctx.status = 303;
      ctx.redirect(returnTo);
      return;
    }
    ctx.throw(405);
  }

  if (path === '/auth' || path.startsWith('/auth/')) {
    if (path === '/auth') {
      control.requests.push({ route: 'authorization', params: Object.fromEntries(new URLSearchParams(ctx.querystring)) });
    }
  }

  await next();

  if (path === '/token' && ctx.method === 'POST') {
    const body = ctx.body && typeof ctx.body === 'object' ? ctx.body : {};
    control.requests.push({
      route: 'token',
      status: ctx.status,
      error: body.error,
      has_id_token: typeof body.id_token === 'string',
      grant_type: ctx.oidc?.params?.grant_type,
      has_code_verifier: Boolean(ctx.oidc?.params?.code_verifier),
      client_id: ctx.oidc?.client?.clientId,
    });
    if (ctx.status === 200 && typeof body.id_token === 'string' && control.tamper) {
      const spec = control.tamper;
      control.tamper = null;
      control.tampered += 1;
      body.id_token = await tamperIdToken(body.id_token, spec);
    }
  }
});

server.on('request', provider.callback());

function stop() {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

process.stdout.write(`ready ${issuer}\n`);
