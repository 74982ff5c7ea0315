// Against the real server: a young person's app signs in anonymously, opens a chat, a worker
// accepts and replies; the connection is cut mid-chat and nothing is lost or duplicated; a
// message sent while cut off, or whose ack was lost, is stored once (same client_msg_id).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Live, TalkZoneClient } from "../dist/index.js";
import { WebSocket, dutyWorker, eventually, post, startProxy, startServer } from "./harness.mjs";

let server;
let proxy;
let worker; // { client, live, token }
const lives = []; // every socket opened, closed at the end whatever happened

before(async () => {
  server = await startServer();
  proxy = await startProxy(server.base);
  const tokens = await dutyWorker(server);
  const client = new TalkZoneClient({ baseUrl: server.base });
  client.useTokens(tokens);
  const live = new Live(client, { WebSocket });
  lives.push(live);
  const seen = [];
  live.on("message", (m) => seen.push(m));
  live.start();
  worker = { client, live, seen, token: tokens.access_token };
});

after(async () => {
  for (const live of lives) live.dispose();
  await proxy?.close();
  await server?.stop();
});

/** A young person's app, through the proxy; `seen` is every message it was given, in order. */
async function youngPerson() {
  const client = new TalkZoneClient({ baseUrl: proxy.base });
  await client.signInAnonymously();
  const live = new Live(client, { WebSocket, initialBackoffMs: 20, maxBackoffMs: 200 });
  lives.push(live);
  const seen = [];
  const frames = [];
  live.on("message", (m) => seen.push(m));
  live.on("frame", (f) => frames.push(f));
  return { client, live, seen, frames };
}

/** A chat opened by a new young person and accepted by the worker, both following it. */
async function acceptedChat() {
  proxy.refuse = false;
  proxy.muteDownstream = false;
  const yp = await youngPerson();
  const conv = await yp.client.openChat({ firstMessage: "hi, can someone talk?" });
  assert.equal(conv.state, "queued");
  yp.live.subscribe(conv.id);
  yp.live.start();
  const accepted = await post(server.base, `/v1/conversations/${conv.id}/accept`, {}, worker.token);
  assert.equal(accepted.state, "assigned");
  worker.live.subscribe(conv.id, accepted.last_seq);
  // The young person hears the worker join (the system message stored on accept).
  await eventually(() => yp.seen.some((m) => m.kind === "system" && m.seq === accepted.last_seq), 10_000, "join message");
  return { yp, conv, joinedSeq: accepted.last_seq };
}

function assertContiguous(seen, conversationId) {
  const seqs = seen.filter((m) => m.conversation_id === conversationId).map((m) => m.seq);
  assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), "seq 1, 2, 3 … each once");
}

const stored = (convId) => worker.client.allMessages(convId);

describe("a chat against the real server", () => {
  test("anonymous sign-in, a chat, the worker accepts and replies, the young person receives it", async () => {
    const { yp, conv } = await acceptedChat();
    assert.equal(yp.client.session.user.role, "young_person");
    await worker.live.send(conv.id, "Hi, I'm Sam. What's on your mind?");
    await eventually(() => yp.seen.some((m) => m.body === "Hi, I'm Sam. What's on your mind?"), 10_000, "reply");
    const ack = await yp.live.send(conv.id, "thanks");
    assert.equal(ack.status, "delivered");
    assert.ok(ack.seq > 0);
    await eventually(() => yp.seen.some((m) => m.seq === ack.seq), 10_000, "own message back");
    assertContiguous(yp.seen, conv.id);
    assert.equal(yp.live.lastSeq(conv.id), (await stored(conv.id)).at(-1).seq);
    // A refreshed token reaches the open socket, which the server accepts for its session.
    await yp.client.refresh();
    const authed = await eventually(() => yp.frames.find((f) => f.type === "authenticated"), 10_000, "authenticated");
    assert.ok(authed.expires_in > 0);
    assert.equal(yp.frames.filter((f) => f.type === "error").length, 0);
    yp.live.dispose();
  });

  test("cut mid-chat: after reconnecting nothing is lost or duplicated, and a message sent while cut off arrives once", async () => {
    const { yp, conv } = await acceptedChat();
    const opened = proxy.accepted;
    // The phone loses its signal, and stays off the network for a while.
    proxy.refuse = true;
    proxy.cut();
    await eventually(() => yp.live.status === "reconnecting", 5_000, "noticed the cut");
    for (const body of ["are you still there?", "take your time", "I'm here"]) await worker.live.send(conv.id, body);
    const offline = yp.live.send(conv.id, "sorry, my phone died", "offline-1");
    assert.equal(yp.live.unacknowledged.length, 1, "kept in the outbox");
    // Back on the network.
    proxy.refuse = false;
    const ack = await offline;
    assert.equal(ack.client_msg_id, "offline-1");
    assert.ok(proxy.accepted > opened, "it reconnected through the proxy");
    await eventually(() => yp.seen.some((m) => m.client_msg_id === "offline-1"), 10_000, "own message back");
    const all = await stored(conv.id);
    assert.deepEqual(
      yp.seen.filter((m) => m.conversation_id === conv.id).map((m) => m.message_id),
      all.map((m) => m.message_id),
      "the app has exactly what the server stored, in order",
    );
    assertContiguous(yp.seen, conv.id);
    assert.equal(all.filter((m) => m.client_msg_id === "offline-1").length, 1, "stored once");
    await eventually(() => worker.seen.some((m) => m.client_msg_id === "offline-1"), 10_000, "the worker has it");
    assert.equal(worker.seen.filter((m) => m.client_msg_id === "offline-1").length, 1, "the worker sees it once");
    yp.live.dispose();
  });

  test("an ack lost with the connection: the message is sent again with the same id and stored once", async () => {
    const { yp, conv } = await acceptedChat();
    // The server hears the message, but its answer never reaches the phone.
    proxy.muteDownstream = true;
    const sending = yp.live.send(conv.id, "did you get this?", "lost-ack-1");
    await eventually(async () => (await stored(conv.id)).some((m) => m.client_msg_id === "lost-ack-1"), 10_000, "stored");
    assert.equal(yp.live.unacknowledged.length, 1, "no ack seen: still in the outbox");
    proxy.cut();
    proxy.muteDownstream = false;
    const ack = await sending;
    const all = await stored(conv.id);
    const copies = all.filter((m) => m.client_msg_id === "lost-ack-1");
    assert.equal(copies.length, 1, "the resend was deduplicated by client_msg_id");
    assert.equal(ack.message_id, copies[0].message_id);
    await eventually(() => yp.seen.some((m) => m.client_msg_id === "lost-ack-1"), 10_000, "message back");
    assertContiguous(yp.seen, conv.id);
    assert.equal(yp.seen.filter((m) => m.client_msg_id === "lost-ack-1").length, 1);
    assert.equal(yp.live.unacknowledged.length, 0);
    yp.live.dispose();
  });

  test("a refused message is not kept: the error frame's shape comes back typed", async () => {
    const { yp, conv } = await acceptedChat();
    await assert.rejects(yp.live.send(conv.id, "   "), (e) => e.code === "validation_failed" && e.status === 0);
    assert.equal(yp.live.unacknowledged.length, 0);
    await assert.rejects(yp.live.send(conv.id, "x".repeat(4001)), (e) => e.code === "too_large");
    yp.live.dispose();
  });
});
