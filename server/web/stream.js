// The live side of the web chat and the staff console, written once for both: the WebSocket
// (`Live`), and over it the stream of one conversation (`ChatStream`): every stored message
// shown once and in order across reconnects, and one's own messages shown at once, kept until
// acknowledged and sent again (same client_msg_id, so never stored twice).
import { authed, el, clientMsgId } from "./common.js";

// A WebSocket that signs in with a single-use ticket, reconnects with a growing wait when it
// drops, and calls `onOpen` each time it is (re)connected so the page can resubscribe from the
// last `seq` it has: nothing is lost and nothing shown twice. The socket lives as long as the
// access token it was opened with: each refreshed token is handed to it in an `auth` frame.
// Closed because the session ended (4001), it does not reconnect: the person signs in again.
export class Live {
  constructor(session, { onOpen, onFrame, onStatus }) {
    this.session = session;
    this.onOpen = onOpen;
    this.onFrame = onFrame;
    this.onStatus = onStatus || (() => {});
    this.ws = null;
    this.wait = 500;
    this.stopped = false;
  }
  async connect() {
    if (this.stopped) return;
    this.onStatus("connecting");
    let ticket;
    try {
      ticket = await authed(this.session, "POST", "/v1/ws-ticket", {});
    } catch (e) {
      if (e.status === 401) { this.onStatus("signed-out"); return; }
      return this.retry();
    }
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/v1/ws?ticket=${encodeURIComponent(ticket.ticket)}`);
    this.ws = ws;
    ws.onopen = () => {
      this.wait = 500;
      this.onStatus("connected");
      this.onOpen();
      this.keepAuthenticated(ws);
    };
    ws.onmessage = (ev) => {
      let frame;
      try { frame = JSON.parse(ev.data); } catch (e) { return; }
      this.onFrame(frame);
    };
    ws.onclose = (ev) => {
      if (this.ws === ws) this.ws = null;
      clearInterval(ws.authTimer);
      if (ev.code === 4001) { this.onStatus("signed-out"); return; }
      this.retry();
    };
  }
  // Every 30 s: if the session's token was refreshed (it is, in its last minute), the socket
  // gets the new one before the old one expires.
  keepAuthenticated(ws) {
    let current = this.session.data && this.session.data.access_token;
    ws.authTimer = setInterval(async () => {
      let token;
      try { token = await this.session.token(); } catch (e) { return; }
      if (token !== current && ws.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify({ type: "auth", access_token: token }));
        current = token;
      }
    }, 30000);
  }
  retry() {
    if (this.stopped) return;
    this.onStatus("reconnecting");
    const wait = this.wait;
    this.wait = Math.min(this.wait * 2, 15000);
    setTimeout(() => this.connect(), wait + Math.random() * 250);
  }
  // False when not connected: the caller keeps what it could not send and sends it on open.
  send(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }
  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close();
  }
}

// One's own message as sent and not yet stored: found again by its `client_msg_id` when the
// ack or the stored message comes back.
function pendingLine(id, who, body) {
  return el("li", { class: "mine pending", "data-client-msg-id": id },
    el("span", { class: "who" }, who), el("p", { class: "body" }, body), el("span", { class: "meta" }, "sending…"));
}

// One conversation followed over a page's `Live` (the console follows several over one).
// The page passes it every frame first (`handle` says whether it was this stream's) and calls
// `resume` whenever the connection opens. The page draws through `view`:
// - `message(m, sentHere)` shows a stored message (each once, in `seq` order) and says whether
//   it is on screen now, so that it counts as read; `sentHere` when this tab sent it, and the
//   "sending…" line `send` gave is already gone, so the stored message takes its place in order.
// - `refused(frame)`, if given, hears of a send the server refused: a rate-limited one is sent
//   again after the wait, any other is marked on its line as not sent.
export class ChatStream {
  constructor(live, conversationId, view) {
    this.live = live;
    this.id = conversationId;
    this.view = view;
    this.lastSeq = 0;
    this.pending = new Map(); // client_msg_id -> body, until acknowledged
    this.lines = new Map(); // client_msg_id -> its line on screen, until the stored message comes
    this.closed = false;
  }

  // On every (re)connect: subscribe from the last `seq` shown (the server sends the missing
  // ones, in order), then send again whatever was not acknowledged.
  resume() {
    this.live.send({ type: "subscribe", conversation_id: this.id, after_seq: this.lastSeq });
    for (const id of this.pending.keys()) this.sendPending(id);
  }

  // Sends `body`, signed `who` on screen; gives the line to show until it is stored.
  send(body, who) {
    const id = clientMsgId();
    const line = pendingLine(id, who, body);
    this.pending.set(id, body);
    this.lines.set(id, line);
    this.sendPending(id);
    return line;
  }

  // The lines of own messages not stored yet, for a page that draws the chat again.
  unsettled() {
    return [...this.lines.values()];
  }

  // Tells the others how far this person has read (everything shown).
  read() {
    if (this.lastSeq) this.live.send({ type: "read", conversation_id: this.id, seq: this.lastSeq });
  }

  // Stops following the chat: nothing more is sent for it.
  close() {
    this.closed = true;
    this.pending.clear();
    this.live.send({ type: "unsubscribe", conversation_id: this.id });
  }

  // True when the frame was this stream's (and is dealt with).
  handle(f) {
    switch (f.type) {
      case "message":
        if (f.conversation_id !== this.id) return false;
        this.message(f);
        return true;
      case "ack":
        if (f.conversation_id !== this.id) return false;
        this.ack(f);
        return true;
      case "error":
        if (!f.ref || !this.pending.has(f.ref)) return false;
        this.refused(f);
        return true;
      default:
        return false;
    }
  }

  sendPending(id) {
    const body = this.pending.get(id);
    if (body !== undefined && !this.closed) {
      this.live.send({ type: "send", conversation_id: this.id, client_msg_id: id, body });
    }
  }

  message(m) {
    if (m.seq <= this.lastSeq) return; // already shown
    if (m.seq > this.lastSeq + 1) {
      // A gap: ask again from what we have; the server sends the missing ones in order.
      this.live.send({ type: "subscribe", conversation_id: this.id, after_seq: this.lastSeq });
      return;
    }
    this.lastSeq = m.seq;
    // Our own message, on screen from this tab: the stored one replaces its line.
    const line = m.client_msg_id && this.lines.get(m.client_msg_id);
    if (line) {
      line.remove();
      this.lines.delete(m.client_msg_id);
    }
    if (m.client_msg_id) this.pending.delete(m.client_msg_id);
    if (this.view.message(m, Boolean(line))) this.live.send({ type: "read", conversation_id: this.id, seq: m.seq });
  }

  // Stored (or, in a pre-moderated room, held for a moderator): it is not sent again. The
  // stored message itself still comes as a `message` frame, and only that moves `lastSeq`.
  ack(f) {
    this.pending.delete(f.client_msg_id);
    const line = this.lines.get(f.client_msg_id);
    if (!line) return;
    line.classList.remove("pending");
    if (f.seq) line.dataset.seq = f.seq;
    line.querySelector(".meta").textContent = f.status === "held" ? "waiting for a moderator" : "sent";
  }

  refused(f) {
    if (f.code === "rate_limited") {
      setTimeout(() => this.sendPending(f.ref), f.retry_after_ms || 1000);
    } else {
      this.pending.delete(f.ref);
      const line = this.lines.get(f.ref);
      if (line) {
        line.classList.add("failed");
        line.querySelector(".meta").textContent = "not sent: " + f.message;
      }
    }
    if (this.view.refused) this.view.refused(f);
  }
}
