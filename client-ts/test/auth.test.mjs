// Signing in and coming back, against the real server: anonymous, the device credential kept
// only when asked and used on a new app start, the recovery phrase, forgetting the device, and
// tokens refreshed before they expire and on 401. Bad input: a wrong credential, a wrong
// phrase, an expired token, a spent refresh token.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { MemoryStorage, TalkZoneClient, TalkZoneError } from "../dist/index.js";
import { claims, jwt, startServer } from "./harness.mjs";

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

const newClient = (opts = {}) => new TalkZoneClient({ baseUrl: server.base, ...opts });

describe("coming back", () => {
  test("nothing is kept unless the app says the device is the young person's own", async () => {
    const storage = new MemoryStorage();
    const a = newClient({ storage });
    await a.signInAnonymously();
    await a.openChat({ firstMessage: "left out of hours" });
    assert.equal(await a.remembersDevice(), false);
    assert.equal(storage.getItem("talkzone.device"), null);
    // A new app start on a device that was not remembered: no way back but the phrase.
    assert.equal(await newClient({ storage }).signInWithStoredDevice(), false);
  });

  test("a remembered device signs back in to the same account and its chat on a new app start", async () => {
    const storage = new MemoryStorage();
    const a = newClient({ storage });
    const first = await a.signInAnonymously();
    const conv = await a.openChat({ firstMessage: "please answer when you can" });
    await a.rememberThisDevice();
    assert.equal(await a.remembersDevice(), true);
    // The app is closed; the tokens are gone with it. It starts again with the same storage.
    const b = newClient({ storage });
    assert.equal(await b.signInWithStoredDevice(), true);
    assert.equal(b.session.user.id, first.user.id);
    assert.notEqual(b.session.refreshToken, first.refreshToken, "a new session");
    const chats = await b.listConversations();
    assert.deepEqual(chats.map((c) => c.id), [conv.id]);
    assert.equal((await b.allMessages(conv.id))[0].body, "please answer when you can");
  });

  test("forgetting the device drops the credential here and on the server", async () => {
    const storage = new MemoryStorage();
    const a = newClient({ storage });
    await a.signInAnonymously();
    await a.rememberThisDevice();
    const { credential } = JSON.parse(storage.getItem("talkzone.device"));
    await a.forgetThisDevice();
    assert.equal(storage.getItem("talkzone.device"), null);
    await assert.rejects(newClient().signInWithDevice(credential), (e) => e.status === 401 && e.code === "unauthorized");
  });

  test("a wrong credential is refused with the protocol's error; a refused stored one is dropped", async () => {
    const err = await newClient()
      .signInWithDevice("not-a-credential")
      .then(() => null, (e) => e);
    assert.ok(err instanceof TalkZoneError);
    assert.equal(err.status, 401);
    assert.equal(err.code, "unauthorized");
    assert.ok(err.message.length > 0);
    const storage = new MemoryStorage();
    storage.setItem("talkzone.device", JSON.stringify({ id: "x", credential: "forgotten-elsewhere" }));
    const c = newClient({ storage });
    assert.equal(await c.signInWithStoredDevice(), false);
    assert.equal(storage.getItem("talkzone.device"), null, "a credential the server refuses is not kept");
    assert.equal(c.session, null);
  });

  test("an async storage (AsyncStorage's shape) works the same", async () => {
    const map = new Map();
    const storage = {
      getItem: async (k) => map.get(k) ?? null,
      setItem: async (k, v) => void map.set(k, v),
      removeItem: async (k) => void map.delete(k),
    };
    const a = newClient({ storage });
    const s = await a.signInAnonymously();
    await a.rememberThisDevice();
    const b = newClient({ storage });
    assert.equal(await b.signInWithStoredDevice(), true);
    assert.equal(b.session.user.id, s.user.id);
  });

  test("the recovery phrase continues the account on another device; a wrong one is refused", async () => {
    const a = newClient();
    const s = await a.signInAnonymously();
    const phrase = await a.createRecoveryPhrase();
    assert.equal(phrase.split(/\s+/).length, 10);
    const other = newClient();
    await other.recover(phrase);
    assert.equal(other.session.user.id, s.user.id);
    await assert.rejects(newClient().recover("not ten words"), (e) => e.status === 422 && e.code === "validation_failed");
  });
});

describe("tokens", () => {
  test("an access token about to expire is refreshed before it is used", async () => {
    let skew = 0;
    const c = newClient({ now: () => Date.now() + skew });
    const s = await c.signInAnonymously();
    assert.equal(await c.accessToken(), s.accessToken, "fresh: no refresh");
    // Time passes to within the refresh margin (60 s) of expiry.
    skew = s.expiresAt - Date.now() - 30_000;
    const seen = [];
    c.onSession((x) => seen.push(x));
    const token = await c.accessToken();
    assert.notEqual(token, s.accessToken);
    assert.notEqual(c.session.refreshToken, s.refreshToken, "the refresh token rotated");
    assert.equal(seen.length, 1);
    assert.equal((await c.me()).id, s.user.id);
  });

  test("concurrent callers share one refresh (a spent refresh token would end the session)", async () => {
    const c = newClient();
    await c.signInAnonymously();
    const [a, b] = await Promise.all([c.refresh(), c.refresh()]);
    assert.equal(a, b);
    assert.equal((await c.me()).id, a.user.id);
  });

  test("an expired access token: the server refuses it (401, the error shape), the client refreshes and goes on", async () => {
    const c = newClient();
    const s = await c.signInAnonymously();
    const now = Math.floor(Date.now() / 1000);
    const expired = jwt({ ...claims(s.accessToken), iat: now - 3600, exp: now - 60 });
    const raw = await fetch(server.base + "/v1/me", { headers: { authorization: `Bearer ${expired}` } });
    assert.equal(raw.status, 401);
    assert.equal((await raw.json()).error.code, "unauthorized");
    // The client believes its token is good (its clock is wrong, say): the 401 refreshes it.
    c.session.accessToken = expired;
    assert.equal((await c.me()).id, s.user.id);
    assert.notEqual(c.session.accessToken, expired);
  });

  test("a refused refresh ends the session and says so", async () => {
    const c = newClient();
    const s = await c.signInAnonymously();
    await c.refresh();
    // Someone presents the spent token (a stolen copy): the whole family is revoked.
    const reuse = await fetch(server.base + "/v1/auth/refresh", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: s.refreshToken }),
    });
    assert.equal(reuse.status, 401);
    const ended = [];
    c.onSession((x) => ended.push(x));
    await assert.rejects(c.refresh(), (e) => e.status === 401 && e.code === "unauthorized");
    assert.equal(c.session, null);
    assert.deepEqual(ended, [null]);
    await assert.rejects(c.me(), (e) => e.code === "signed_out");
  });

  test("signing out ends the session on the server", async () => {
    const c = newClient();
    const s = await c.signInAnonymously();
    await c.signOut();
    assert.equal(c.session, null);
    const raw = await fetch(server.base + "/v1/me", { headers: { authorization: `Bearer ${s.accessToken}` } });
    assert.equal(raw.status, 401);
  });
});
