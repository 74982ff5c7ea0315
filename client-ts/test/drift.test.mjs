// The package must not drift from the server: every route it calls is in the running server's
// OpenAPI document with that method, and its lists of frame types and error codes are the
// AsyncAPI document's.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CLIENT_FRAME_TYPES, ERROR_CODES, ROUTES, SERVER_FRAME_TYPES } from "../dist/index.js";
import { startServer } from "./harness.mjs";

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

const shape = (path) => path.replace(/\{[^}]*\}/g, "{}");
test("every route the client calls is in /v1/openapi.json with that method", async () => {
  const doc = await (await fetch(server.base + "/v1/openapi.json")).json();
  const served = new Map(Object.entries(doc.paths).map(([p, ops]) => [shape(p), ops]));
  const has = ([method, path]) => Boolean(served.get(shape(path))?.[method.toLowerCase()]);
  const missing = [];
  for (const [name, route] of Object.entries(ROUTES)) {
    if (!has(route)) missing.push(`${name}: ${route.join(" ")}`);
  }
  assert.deepEqual(missing, [], "routes the client calls that the server does not serve");
});

test("frame types and error codes are the ones in /v1/asyncapi.json", async () => {
  const doc = await (await fetch(server.base + "/v1/asyncapi.json")).json();
  const names = Object.keys(doc.components.messages);
  const of = (prefix) => names.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length)).sort();
  assert.deepEqual([...SERVER_FRAME_TYPES].sort(), of("server."));
  assert.deepEqual([...CLIENT_FRAME_TYPES].sort(), of("client."));
  assert.deepEqual([...ERROR_CODES].sort(), [...doc.components.schemas.ErrorCode.enum].sort());
});

/** The required fields of a schema, following `$ref`, `allOf` and (all branches of) `oneOf`. */
function required(doc, schema) {
  if (!schema) return new Set();
  if (schema.$ref) return required(doc, schema.$ref.slice(2).split("/").reduce((o, k) => o[k], doc));
  const out = new Set(schema.required ?? []);
  for (const s of schema.allOf ?? []) for (const f of required(doc, s)) out.add(f);
  return out;
}

function answerSchema(doc, method, path, status) {
  const op = doc.paths[path]?.[method];
  assert.ok(op, `${method} ${path} is served`);
  return op.responses[status]?.content?.["application/json"]?.schema;
}

test("the fields the client relies on are required in the server's documents", async () => {
  const openapi = await (await fetch(server.base + "/v1/openapi.json")).json();
  const asyncapi = await (await fetch(server.base + "/v1/asyncapi.json")).json();
  const needs = (have, fields, what) =>
    assert.deepEqual(fields.filter((f) => !have.has(f)), [], `${what} lacks fields the client reads`);
  const token = ["access_token", "refresh_token", "expires_in", "user"];
  needs(required(openapi, answerSchema(openapi, "post", "/v1/auth/anonymous", "201")), token, "anonymous sign-in");
  needs(required(openapi, answerSchema(openapi, "post", "/v1/auth/device", "200")), token, "device sign-in");
  needs(required(openapi, answerSchema(openapi, "post", "/v1/auth/refresh", "200")), token, "refresh");
  needs(required(openapi, answerSchema(openapi, "post", "/v1/me/device-credentials", "201")), ["id", "credential"], "device credential");
  needs(required(openapi, answerSchema(openapi, "post", "/v1/ws-ticket", "200")), ["ticket"], "ticket");
  needs(required(openapi, answerSchema(openapi, "post", "/v1/me/recovery-phrase", "201")), ["phrase"], "recovery phrase");
  const frame = (name) => required(asyncapi, asyncapi.components.messages[name].payload);
  needs(frame("server.message"), ["type", "conversation_id", "seq", "message_id", "body", "kind"], "message frame");
  needs(frame("server.ack"), ["type", "client_msg_id", "conversation_id", "message_id", "status"], "ack frame");
  needs(frame("server.error"), ["type", "code", "message"], "error frame");
  needs(frame("server.subscribed"), ["type", "conversation_id", "last_seq"], "subscribed frame");
});
