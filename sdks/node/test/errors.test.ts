/** The server-API error codes the SDK names are exactly the server's (sdks/testdata/error-codes.json). */

import assert from "node:assert/strict";
import { test } from "node:test";

import { API_ERROR_CODES } from "../src/index.js";
import { loadVectors } from "./helpers.js";

interface ErrorCodes {
  codes: { code: string; message: string; status: number }[];
  http_only: { code: string; message: string; status: number }[];
}

test("API_ERROR_CODES lists every code the server answers, and no other", () => {
  const table = loadVectors<ErrorCodes>("error-codes.json");
  const server = new Set([...table.codes, ...table.http_only].map((row) => row.code));
  assert.ok(server.size >= 30, `read ${server.size} codes`);
  const ours = new Set<string>(API_ERROR_CODES);
  assert.equal(ours.size, API_ERROR_CODES.length, "a code is listed twice");
  assert.deepEqual([...server].filter((c) => !ours.has(c)), [], "missing from API_ERROR_CODES");
  assert.deepEqual([...ours].filter((c) => !server.has(c)), [], "codes the server never answers");
});
