// Push registration (the push API contract in client-ts/README.md). The server's push routes
// are built on another branch at the same time, so these run against a fake fetch that answers
// as the contract says, checking what the client sends and how it reads the answers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { TalkZoneClient } from "../dist/index.js";

const json = (status, body, headers = {}) =>
  new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

/** A fake server: `routes["POST /v1/…"]` answers; every request is recorded. */
function fakeFetch(routes) {
  const calls = [];
  const f = async (url, init = {}) => {
    const u = new URL(url);
    const key = `${init.method ?? "GET"} ${u.pathname}`;
    const body = init.body ? JSON.parse(init.body) : undefined;
    calls.push({ key, body, auth: init.headers?.authorization ?? null, contentType: init.headers?.["content-type"] });
    const answer = routes[key];
    if (!answer) return json(404, { error: { code: "not_found", message: "no such route" } });
    return answer(body, init);
  };
  return { f, calls };
}

const tokens = (n) => ({
  access_token: `access-${n}`,
  refresh_token: `refresh-${n}`,
  expires_in: 900,
  user: { id: "u1", role: "young_person", display_name: "Calm Otter 42" },
});

function signedIn(routes) {
  const fake = fakeFetch(routes);
  const c = new TalkZoneClient({ baseUrl: "https://tz.example/", fetch: fake.f });
  c.useTokens(tokens(1));
  return { c, calls: fake.calls };
}

test("web push: the key (no sign-in needed), then the browser's subscription registered", async () => {
  const fake = fakeFetch({
    "GET /v1/push/web-push-key": () => json(200, { public_key: "BExampleKey" }),
  });
  const anon = new TalkZoneClient({ baseUrl: "https://tz.example", fetch: fake.f });
  assert.equal(await anon.webPushKey(), "BExampleKey");
  assert.equal(fake.calls[0].auth, null, "no token when signed out");

  const created = { id: "0b8f…", kind: "web_push", created_at: "2026-12-04T14:00:00.000Z" };
  const { c, calls } = signedIn({ "POST /v1/me/push-subscriptions": () => json(201, created) });
  const sub = {
    kind: "web_push",
    endpoint: "https://push.example/abc",
    keys: { p256dh: "BP256", auth: "AUTH" },
    device_label: "my phone",
  };
  assert.deepEqual(await c.registerPush(sub), created);
  assert.deepEqual(calls[0], {
    key: "POST /v1/me/push-subscriptions",
    body: sub,
    auth: "Bearer access-1",
    contentType: "application/json",
  });
});

test("native apps register an FCM or APNs token; the same one again answers 200 with the existing one", async () => {
  const existing = { id: "s1", kind: "fcm", created_at: "2026-12-04T14:00:00.000Z" };
  let n = 0;
  const { c, calls } = signedIn({
    "POST /v1/me/push-subscriptions": (body) => json(n++ === 0 ? 201 : 200, { ...existing, kind: body.kind }),
  });
  assert.deepEqual(await c.registerPush({ kind: "fcm", token: "fcm-token" }), existing);
  assert.deepEqual(await c.registerPush({ kind: "fcm", token: "fcm-token" }), existing);
  assert.equal((await c.registerPush({ kind: "apns", token: "a1b2" })).kind, "apns");
  assert.deepEqual(calls.map((x) => x.body), [
    { kind: "fcm", token: "fcm-token" },
    { kind: "fcm", token: "fcm-token" },
    { kind: "apns", token: "a1b2" },
  ]);
});

test("subscriptions are listed and deleted by id", async () => {
  const list = [{ id: "s1", kind: "apns", device_label: null, created_at: "2026-12-04T14:00:00.000Z", last_success_at: null }];
  const { c, calls } = signedIn({
    "GET /v1/me/push-subscriptions": () => json(200, { subscriptions: list }),
    "DELETE /v1/me/push-subscriptions/s%201": () => new Response(null, { status: 204 }),
  });
  assert.deepEqual(await c.listPushSubscriptions(), list);
  await c.deletePushSubscription("s 1");
  assert.equal(calls[1].key, "DELETE /v1/me/push-subscriptions/s%201", "the id is escaped in the path");
  assert.equal(calls[1].body, undefined);
  // Another user's id is 404 (no oracle): the caller sees the protocol's error.
  await assert.rejects(c.deletePushSubscription("theirs"), (e) => e.status === 404 && e.code === "not_found");
});

test("refusals carry the protocol's error: 422 for a malformed subscription, 503 with Retry-After when web push is off", async () => {
  const { c } = signedIn({
    "POST /v1/me/push-subscriptions": () =>
      json(422, { error: { code: "validation_failed", message: "endpoint must be https", details: { field: "endpoint" } } }),
    "GET /v1/push/web-push-key": () =>
      json(503, { error: { code: "unavailable", message: "Web Push is not configured" } }, { "retry-after": "30" }),
  });
  const bad = await c.registerPush({ kind: "web_push", endpoint: "http://x", keys: { p256dh: "a", auth: "b" } }).catch((e) => e);
  assert.equal(bad.status, 422);
  assert.equal(bad.code, "validation_failed");
  assert.equal(bad.message, "endpoint must be https");
  assert.deepEqual(bad.details, { field: "endpoint" });
  const off = await c.webPushKey().catch((e) => e);
  assert.equal(off.status, 503);
  assert.equal(off.code, "unavailable");
  assert.equal(off.retryAfterMs, 30_000);
});

test("a 401 on a push call refreshes once and tries again with the new token", async () => {
  const { c, calls } = signedIn({
    "GET /v1/me/push-subscriptions": (_b, init) =>
      init.headers.authorization === "Bearer access-2"
        ? json(200, { subscriptions: [] })
        : json(401, { error: { code: "unauthorized", message: "expired" } }),
    "POST /v1/auth/refresh": (body) => {
      assert.deepEqual(body, { refresh_token: "refresh-1" });
      return json(200, tokens(2));
    },
  });
  assert.deepEqual(await c.listPushSubscriptions(), []);
  assert.deepEqual(calls.map((x) => x.key), [
    "GET /v1/me/push-subscriptions",
    "POST /v1/auth/refresh",
    "GET /v1/me/push-subscriptions",
  ]);
  assert.equal(c.session.refreshToken, "refresh-2");
});

test("a network failure is a TalkZoneError of code network, not a crash", async () => {
  const c = new TalkZoneClient({
    baseUrl: "https://tz.example",
    fetch: async () => {
      throw new TypeError("fetch failed");
    },
  });
  await assert.rejects(c.webPushKey(), (e) => e.code === "network" && e.status === 0);
});
