/**
 * Test helpers: the shared vectors, a tiny real HTTP server on 127.0.0.1 with
 * routes registered by each test (and a record of the requests it got), an
 * injectable clock, and Ed25519 keys that sign access tokens.
 */

import { readFileSync } from "node:fs";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { type JWK, type JWTPayload, SignJWT, exportJWK, generateKeyPair } from "jose";

export function loadVectors<T = any>(name: string): T {
  // build/test/helpers.js -> sdks/testdata
  return JSON.parse(readFileSync(new URL(`../../../testdata/${name}`, import.meta.url), "utf8")) as T;
}

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: string;
}

export type Reply = [status: number, body: unknown] | Promise<[status: number, body: unknown]>;
export type Route = (req: Recorded) => Reply;

export class LocalServer {
  url = "";
  readonly routes = new Map<string, Route>();
  readonly requests: Recorded[] = [];
  private server: Server | null = null;

  route(method: string, path: string, handler: Route): void {
    this.routes.set(`${method} ${path}`, handler);
  }

  json(method: string, path: string, body: unknown, status = 200): void {
    this.route(method, path, () => [status, body]);
  }

  count(method: string, path: string): number {
    return this.requests.filter((r) => r.method === method && r.path === path).length;
  }

  async start(): Promise<this> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const url = new URL(req.url ?? "/", "http://x");
        const rec: Recorded = {
          method: req.method ?? "GET",
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        };
        this.requests.push(rec);
        const route = this.routes.get(`${rec.method} ${rec.path}`);
        const reply: Reply = route ? route(rec) : [404, { error: { code: "not_found", message: "no such route" } }];
        void Promise.resolve(reply).then(([status, body]) => {
          if (res.destroyed) return;
          const data = body === null || body === undefined ? "" : JSON.stringify(body);
          res.writeHead(status, data ? { "content-type": "application/json" } : {});
          res.end(data);
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

export class FakeClock {
  constructor(public now: number) {}
  readonly fn = (): number => this.now;
}

export class SigningKey {
  private constructor(
    readonly kid: string,
    readonly jwk: JWK,
    private readonly privateKey: CryptoKey,
  ) {}

  static async create(kid: string): Promise<SigningKey> {
    const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" };
    return new SigningKey(kid, jwk, privateKey as CryptoKey);
  }

  sign(claims: JWTPayload, typ = "at+jwt"): Promise<string> {
    return new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", kid: this.kid, typ }).sign(this.privateKey);
  }
}

export function accessClaims(issuer: string, audience: string, now: number, extra: JWTPayload = {}): JWTPayload {
  return {
    iss: issuer,
    sub: "user-1",
    aud: audience,
    client_id: audience,
    exp: Math.floor(now) + 900,
    iat: Math.floor(now),
    sid: "session-1",
    amr: ["pwd"],
    ...extra,
  };
}
