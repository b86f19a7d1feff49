/**
 * Verifications per second: the SDK's verifier (warm JWKS cache) vs raw jose
 * `jwtVerify` on the same token with the same key, in the same run, so the gap
 * is the SDK's own overhead. The JWKS comes from an injected fetch: no network.
 *
 *     npm run bench            # or: node build/bench/verify.js [seconds per algorithm and side, default 4]
 */

import { type CryptoKey, SignJWT, exportJWK, generateKeyPair, jwtVerify } from "jose";

import { createVerifier } from "../src/index.js";

const ISSUER = "https://auth.example.test";
const AUDIENCE = "01900000-0000-7000-8000-00000000a001";

async function rate(fn: () => Promise<unknown>, seconds: number): Promise<number> {
  for (let i = 0; i < 200; i++) await fn();
  let n = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  for (;;) {
    for (let i = 0; i < 100; i++) await fn();
    n += 100;
    const now = performance.now();
    if (now >= deadline) return n / ((now - start) / 1000);
  }
}

/** Alternate short measurements of a and b; the best of each (robust to a busy machine). */
async function paired(a: () => Promise<unknown>, b: () => Promise<unknown>, seconds: number, rounds = 8): Promise<[number, number]> {
  const ra: number[] = [];
  const rb: number[] = [];
  for (let i = 0; i < rounds; i++) {
    ra.push(await rate(a, seconds / rounds));
    rb.push(await rate(b, seconds / rounds));
  }
  return [Math.max(...ra), Math.max(...rb)];
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 4);
  const algs = ["EdDSA", "ES256", "RS256"] as const;
  const pairs = new Map<string, { publicKey: CryptoKey; privateKey: CryptoKey }>();
  const jwks: { keys: unknown[] } = { keys: [] };
  for (const alg of algs) {
    const pair = await generateKeyPair(alg, alg === "EdDSA" ? { crv: "Ed25519" } : {});
    pairs.set(alg, pair);
    jwks.keys.push({ ...(await exportJWK(pair.publicKey)), kid: `k-${alg}`, alg, use: "sig" });
  }
  const verifier = createVerifier({
    baseUrl: ISSUER,
    audience: AUDIENCE,
    fetch: async () => Response.json(jwks),
  });
  const now = Math.floor(Date.now() / 1000);
  const claims = { client_id: AUDIENCE, sid: "s-1", nbf: now, jti: "j", amr: ["pwd"], roles: ["admin"] };

  console.log(`node ${process.version}, ${seconds} s per algorithm and side (best of 8 alternating rounds)`);
  console.log(`${"alg".padEnd(6)} ${"@tessera/sdk verify/s".padStart(22)} ${"raw jose jwtVerify/s".padStart(21)} ${"ratio".padStart(6)}`);
  for (const alg of algs) {
    const { publicKey, privateKey } = pairs.get(alg)!;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg, kid: `k-${alg}`, typ: "at+jwt" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject("user-1")
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(privateKey);
    await verifier.verify(token); // warm the JWKS cache
    const [sdk, raw] = await paired(
      () => verifier.verify(token),
      () => jwtVerify(token, publicKey, { algorithms: [alg], issuer: ISSUER, audience: AUDIENCE, clockTolerance: 30 }),
      seconds,
    );
    const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
    console.log(`${alg.padEnd(6)} ${fmt(sdk).padStart(22)} ${fmt(raw).padStart(21)} ${(sdk / raw).toFixed(2).padStart(6)}`);
  }
  if (verifier.jwks.fetchCount !== 1) throw new Error("the JWKS must be fetched once");
}

await main();
