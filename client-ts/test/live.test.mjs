// The WebSocket half against a fake socket: the protocol's resume and gap rules, the outbox's
// bound, backoff with jitter, and the close codes (docs/protocol.md, "Closing").
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Live, TalkZoneClient } from "../dist/index.js";

const flush = () => new Promise((r) => setImmediate(r));
async function eventually(check, ms = 2000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("not met in time");
    await new Promise((r) => setTimeout(r, 2));
  }
}

class FakeSocket {
  static all = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
    FakeSocket.all.push(this);
  }
  send(data) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
  }
  // Test side.
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  frame(f) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  serverClose(code) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  frames(type) {
    return this.sent.filter((f) => f.type === type);
  }
}

const lives = [];
after(() => lives.forEach((l) => l.dispose()));

function setup(opts = {}) {
  FakeSocket.all = [];
  let tickets = 0;
  let refreshes = 0;
  const answer = (status, body) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const tokens = (n) => ({
    access_token: `access-${n}`,
    refresh_token: `refresh-${n}`,
    expires_in: 900,
    user: { id: "u1", role: "young_person", display_name: "Calm Otter 42" },
  });
  const client = new TalkZoneClient({
    baseUrl: "https://tz.example",
    fetch: async (url) => {
      const path = new URL(url).pathname;
      if (path === "/v1/ws-ticket") {
        if (opts.ticketStatus) return answer(opts.ticketStatus, { error: { code: "unauthorized", message: "no" } });
        return answer(200, { ticket: `t${++tickets}`, expires_in: 30 });
      }
      if (path === "/v1/auth/refresh") {
        refreshes++;
        if (opts.refreshOffline && refreshes === 1) throw new TypeError("fetch failed");
        return answer(200, tokens(1 + refreshes));
      }
      return answer(404, { error: { code: "not_found", message: path } });
    },
  });
  client.useTokens(tokens(1));
  const live = new Live(client, { WebSocket: FakeSocket, random: () => 0.5, newId: (() => { let i = 0; return () => `id-${++i}`; })(), ...opts.live });
  lives.push(live);
  const seen = [];
  live.on("message", (m) => seen.push(m));
  return { client, live, seen, refreshes: () => refreshes };
}

const msg = (seq, extra = {}) => ({
  type: "message",
  conversation_id: "c1",
  seq,
  message_id: `m${seq}`,
  client_msg_id: null,
  sender: null,
  body: `b${seq}`,
  sent_at: "2026-12-04T14:00:00.000Z",
  kind: "text",
  ...extra,
});

test("connects with a ticket in the URL, subscribes from the last seq on every (re)connect", async () => {
  const { live, seen } = setup({ live: { initialBackoffMs: 1 } });
  live.subscribe("c1", 4);
  live.start();
  await flush();
  const ws = FakeSocket.all[0];
  assert.equal(ws.url, "wss://tz.example/v1/ws?ticket=t1");
  ws.open();
  assert.deepEqual(ws.frames("subscribe"), [{ type: "subscribe", conversation_id: "c1", after_seq: 4 }]);
  ws.frame(msg(5));
  ws.frame(msg(6));
  ws.serverClose(1012);
  assert.equal(live.status, "reconnecting");
  await new Promise((r) => setTimeout(r, 10));
  await flush();
  const again = FakeSocket.all[1];
  assert.equal(again.url, "wss://tz.example/v1/ws?ticket=t2", "a new single-use ticket");
  again.open();
  assert.deepEqual(again.frames("subscribe"), [{ type: "subscribe", conversation_id: "c1", after_seq: 6 }]);
  assert.deepEqual(seen.map((m) => m.seq), [5, 6]);
  assert.equal(seen[0].type, undefined, "the app gets the message, not the frame");
  live.dispose();
});

test("duplicates are dropped; a gap resubscribes from the last seq and only the next one is delivered", async () => {
  const { live, seen } = setup();
  live.subscribe("c1");
  live.start();
  await flush();
  const ws = FakeSocket.all[0];
  ws.open();
  ws.frame(msg(1));
  ws.frame(msg(1));
  ws.frame(msg(3)); // 2 is missing
  assert.deepEqual(ws.frames("subscribe").at(-1), { type: "subscribe", conversation_id: "c1", after_seq: 1 });
  assert.deepEqual(seen.map((m) => m.seq), [1]);
  ws.frame(msg(2));
  ws.frame(msg(3));
  ws.frame(msg(2));
  ws.frame(msg(4, { conversation_id: "other" }));
  assert.deepEqual(seen.map((m) => m.seq), [1, 2, 3], "each once, in order; unfollowed chats ignored");
  live.dispose();
});

test("the outbox keeps unacknowledged messages, resends them with the same id, and is bounded", async () => {
  const { live } = setup({ live: { outboxLimit: 2, initialBackoffMs: 1 } });
  live.subscribe("c1");
  const a = live.send("c1", "first"); // before any connection: kept
  const b = live.send("c1", "second");
  await assert.rejects(live.send("c1", "third"), (e) => e.code === "outbox_full");
  live.start();
  await flush();
  const ws = FakeSocket.all[0];
  ws.open();
  assert.deepEqual(ws.frames("send").map((f) => [f.client_msg_id, f.body]), [["id-1", "first"], ["id-2", "second"]]);
  ws.frame({ type: "ack", client_msg_id: "id-1", conversation_id: "c1", message_id: "m1", seq: 1, status: "delivered" });
  assert.equal((await a).seq, 1);
  ws.serverClose(1006);
  await new Promise((r) => setTimeout(r, 10));
  await flush();
  const again = FakeSocket.all[1];
  again.open();
  assert.deepEqual(again.frames("send").map((f) => f.client_msg_id), ["id-2"], "only the unacknowledged, same id");
  // Its ack was lost; the stored message itself settles it.
  again.frame(msg(1, { message_id: "m1", client_msg_id: "id-1" }));
  again.frame(msg(2, { message_id: "m2", client_msg_id: "id-2" }));
  assert.deepEqual(await b, { type: "ack", client_msg_id: "id-2", conversation_id: "c1", message_id: "m2", seq: 2, status: "delivered" });
  assert.equal(live.unacknowledged.length, 0);
  live.dispose();
});

test("a rate-limited send is tried again after the wait; another refusal rejects", async () => {
  const { live } = setup();
  live.start();
  await flush();
  const ws = FakeSocket.all[0];
  ws.open();
  const p = live.send("c1", "hello");
  ws.frame({ type: "error", code: "rate_limited", message: "slow down", retry_after_ms: 5, ref: "id-1" });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(ws.frames("send").length, 2);
  assert.equal(ws.frames("send")[1].client_msg_id, "id-1");
  ws.frame({ type: "error", code: "conflict", message: "the conversation is closed", ref: "id-1" });
  await assert.rejects(p, (e) => e.code === "conflict" && e.message === "the conversation is closed");
  live.dispose();
});

test("backoff doubles up to the maximum, with jitter", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const waits = [];
  const real = globalThis.setTimeout;
  const { live } = setup({
    live: { initialBackoffMs: 100, maxBackoffMs: 1000, connectTimeoutMs: 99_999, random: () => 1 - Number.EPSILON },
  });
  globalThis.setTimeout = (fn, ms) => (waits.push(ms), real(fn, ms));
  try {
    live.start();
    for (let i = 0; i < 6; i++) {
      await flush();
      FakeSocket.all.at(-1).serverClose(1006);
      t.mock.timers.tick(waits.at(-1));
    }
  } finally {
    globalThis.setTimeout = real;
  }
  // (The other timer is each handshake's own time limit.)
  assert.deepEqual(waits.filter((ms) => ms !== 99_999).map(Math.round), [100, 200, 400, 800, 1000, 1000]);
  live.dispose();
});

test("4001 (the session ended) never reconnects; 4002 refreshes the token and reconnects", async () => {
  const s = setup({ live: { initialBackoffMs: 1 } });
  s.live.start();
  await flush();
  FakeSocket.all[0].open();
  const p = s.live.send("c1", "x");
  FakeSocket.all[0].serverClose(4001);
  assert.equal(s.live.status, "signed_out");
  await assert.rejects(p, (e) => e.code === "signed_out");
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(FakeSocket.all.length, 1);

  const r = setup({ live: { initialBackoffMs: 1 } });
  r.live.start();
  await flush();
  FakeSocket.all[0].open();
  FakeSocket.all[0].serverClose(4002);
  await new Promise((res) => setTimeout(res, 10));
  await flush();
  assert.equal(r.refreshes(), 1);
  assert.equal(FakeSocket.all.length, 2);
  r.live.dispose();
});

test("4002 with no network for the refresh still reconnects (the ticket call refreshes then)", async () => {
  const { live, refreshes } = setup({ refreshOffline: true, live: { initialBackoffMs: 1 } });
  live.start();
  await flush();
  FakeSocket.all[0].open();
  FakeSocket.all[0].serverClose(4002);
  await eventually(() => FakeSocket.all.length === 2);
  assert.equal(live.status, "reconnecting");
  assert.ok(refreshes() >= 1);
  live.dispose();
});

test("a refreshed token is handed to the open socket in an auth frame", async () => {
  const { client, live } = setup();
  live.start();
  await flush();
  const ws = FakeSocket.all[0];
  ws.open();
  await client.refresh();
  assert.deepEqual(ws.frames("auth"), [{ type: "auth", access_token: "access-2" }]);
  live.dispose();
});

test("a refused ticket (the session is gone) stops instead of retrying", async () => {
  const { live } = setup({ ticketStatus: 401 });
  live.start();
  await flush();
  await flush();
  assert.equal(live.status, "signed_out");
  assert.equal(FakeSocket.all.length, 0);
});

test("a handshake that never completes is given up and tried again", async () => {
  const { live } = setup({ live: { connectTimeoutMs: 5, initialBackoffMs: 1 } });
  live.start();
  await flush();
  assert.equal(FakeSocket.all.length, 1);
  await eventually(() => FakeSocket.all.length >= 2);
  assert.equal(FakeSocket.all[0].readyState, 3, "the stuck one was closed");
  live.dispose();
});

test("a silent connection (lost signal, no close) is dropped and reopened", async () => {
  const { live } = setup({ live: { pingIntervalMs: 5, initialBackoffMs: 1 } });
  live.start();
  await flush();
  FakeSocket.all[0].open();
  await new Promise((r) => setTimeout(r, 40));
  await flush();
  assert.ok(FakeSocket.all[0].frames("ping").length >= 1);
  assert.ok(FakeSocket.all.length >= 2, "a new socket after the silence");
  live.dispose();
});
