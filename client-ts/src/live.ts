// The WebSocket half: one connection opened with a single-use ticket, reconnected with a
// growing, jittered wait; each followed conversation resumed from the last `seq` delivered,
// so no message is lost or delivered twice; own messages kept in an outbox until the server
// acknowledges them, and sent again with the same `client_msg_id` after a reconnect (the
// server stores a `client_msg_id` once).
import { TalkZoneError } from "./errors.js";
import type { TalkZoneClient } from "./client.js";
import type { AckFrame, ClientFrame, ErrorFrame, Message, ServerFrame } from "./types.js";

/** The part of the WebSocket API used here: the browser's, React Native's and `ws`'s all fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

const OPEN = 1;

// Node's timers keep a process alive; the socket itself does that while it is open, so the
// package's own timers need not (browsers and React Native have no `unref`).
function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
/** The server's limit on a message body, in characters. */
export const MAX_BODY_CHARS = 4000;

// A `client_msg_id`: a UUID where the platform has one; React Native (Hermes) has neither
// `randomUUID` nor always `getRandomValues`, so 128 bits from Math.random then (unique per
// sender is all the server asks; it is not a secret).
function randomId(): string {
  const c = (globalThis as { crypto?: Partial<Crypto> }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export type LiveStatus = "connecting" | "open" | "reconnecting" | "signed_out" | "stopped";

export interface LiveOptions {
  /** The platform's WebSocket (`globalThis.WebSocket` in browsers and React Native). */
  WebSocket?: WebSocketConstructor;
  /** First wait before reconnecting (default 500 ms); it doubles up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  /** Longest wait between tries (default 15 s). */
  maxBackoffMs?: number;
  /** At most this many unacknowledged messages (default 100); more are refused. */
  outboxLimit?: number;
  /** A `ping` this often (default 20 s); nothing heard for 2.5 times as long: reconnect. */
  pingIntervalMs?: number;
  /** A socket not open this long after it was made is given up and tried again (default 15 s). */
  connectTimeoutMs?: number;
  /** In [0, 1) (default `Math.random`): the jitter, so phones do not all come back at once. */
  random?: () => number;
  /** A new `client_msg_id` (default a random UUID). */
  newId?: () => string;
}

interface Pending {
  conversationId: string;
  clientMsgId: string;
  body: string;
  resolve: (a: AckFrame) => void;
  reject: (e: TalkZoneError) => void;
  retryTimer?: ReturnType<typeof setTimeout>;
}

type Handlers = {
  /** A stored message, each once and in `seq` order per conversation. */
  message: (m: Message) => void;
  /** Every frame as it comes (after the package has dealt with it). */
  frame: (f: ServerFrame) => void;
  status: (s: LiveStatus) => void;
  /** An `error` frame that is not about a message in the outbox. */
  error: (f: ErrorFrame) => void;
};

export class Live {
  private readonly client: TalkZoneClient;
  private readonly WS: WebSocketConstructor;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly outboxLimit: number;
  private readonly pingIntervalMs: number;
  private readonly connectTimeoutMs: number;
  private readonly random: () => number;
  private readonly newId: () => string;
  private ws: WebSocketLike | null = null;
  private attempt = 0;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private pingTimer?: ReturnType<typeof setInterval>;
  private tokenTimer?: ReturnType<typeof setTimeout>;
  private lastHeard = 0;
  private stopped = true;
  private _status: LiveStatus = "stopped";
  /** conversation id -> the last `seq` delivered to the app. */
  private readonly subs = new Map<string, number>();
  /** client_msg_id -> message, in the order sent (a Map keeps insertion order). */
  private readonly outbox = new Map<string, Pending>();
  private readonly handlers: { [K in keyof Handlers]: Set<Handlers[K]> } = {
    message: new Set(),
    frame: new Set(),
    status: new Set(),
    error: new Set(),
  };
  private unlisten: () => void;

  constructor(client: TalkZoneClient, opts: LiveOptions = {}) {
    this.client = client;
    const WS = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) throw new TypeError("no WebSocket: pass one in LiveOptions.WebSocket");
    this.WS = WS;
    this.initialBackoffMs = opts.initialBackoffMs ?? 500;
    this.maxBackoffMs = opts.maxBackoffMs ?? 15_000;
    this.outboxLimit = opts.outboxLimit ?? 100;
    this.pingIntervalMs = opts.pingIntervalMs ?? 20_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 15_000;
    this.random = opts.random ?? Math.random;
    this.newId = opts.newId ?? randomId;
    // A refreshed token goes to the open socket at once (`auth`), so the socket outlives the
    // token it was opened with; a session that ended stops everything.
    this.unlisten = client.onSession((s) => {
      if (s === null) return this.signedOut();
      this.sendFrame({ type: "auth", access_token: s.accessToken });
      this.scheduleRefresh();
    });
  }

  on<K extends keyof Handlers>(event: K, fn: Handlers[K]): () => void {
    this.handlers[event].add(fn);
    return () => this.handlers[event].delete(fn);
  }

  get status(): LiveStatus {
    return this._status;
  }

  /** Messages sent and not yet acknowledged, oldest first. */
  get unacknowledged(): { conversationId: string; clientMsgId: string; body: string }[] {
    return [...this.outbox.values()].map(({ conversationId, clientMsgId, body }) => ({ conversationId, clientMsgId, body }));
  }

  /** The last `seq` delivered for a followed conversation. */
  lastSeq(conversationId: string): number | undefined {
    return this.subs.get(conversationId);
  }

  /** Starts (or restarts after `stop`) the connection. */
  start(): void {
    this.stopped = false;
    if (!this.ws && this.reconnectTimer === undefined) void this.connect();
  }

  /** Closes the socket and stops reconnecting; the outbox is kept for `start`. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.drop(1000);
    this.setStatus("stopped");
  }

  /** Stops for good and forgets the session listener. */
  dispose(): void {
    this.stop();
    this.unlisten();
    this.failOutbox(new TalkZoneError("stopped", "the connection was disposed"));
  }

  /** Back in the foreground or on the network again: try now rather than after the wait. */
  reconnectNow(): void {
    if (this.stopped || this.ws) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.attempt = 0;
    void this.connect();
  }

  /**
   * Follows a conversation from `afterSeq` (default: where it was, or 0): every stored message
   * after it comes through `message`, then the live ones, across reconnects.
   */
  subscribe(conversationId: string, afterSeq?: number): void {
    const from = afterSeq ?? this.subs.get(conversationId) ?? 0;
    this.subs.set(conversationId, from);
    this.sendFrame({ type: "subscribe", conversation_id: conversationId, after_seq: from });
  }

  unsubscribe(conversationId: string): void {
    this.subs.delete(conversationId);
    this.sendFrame({ type: "unsubscribe", conversation_id: conversationId });
  }

  /**
   * Sends a message; resolves with its `ack` once it is stored. Kept in the outbox until then
   * and sent again, with the same `client_msg_id`, after every reconnect. Rejects when the
   * server refuses it (not for `rate_limited` or `unavailable`: those are tried again after
   * the wait), or at once when the outbox is full or the body too long.
   */
  send(conversationId: string, body: string, clientMsgId: string = this.newId()): Promise<AckFrame> {
    const existing = this.outbox.get(clientMsgId);
    if (existing) return new Promise((resolve, reject) => this.chain(existing, resolve, reject));
    if ([...body].length > MAX_BODY_CHARS) {
      return Promise.reject(new TalkZoneError("too_large", `a message is at most ${MAX_BODY_CHARS} characters`));
    }
    if (this.outbox.size >= this.outboxLimit) {
      return Promise.reject(
        new TalkZoneError("outbox_full", `${this.outboxLimit} messages are waiting to be sent already`),
      );
    }
    return new Promise<AckFrame>((resolve, reject) => {
      const p: Pending = { conversationId, clientMsgId, body, resolve, reject };
      this.outbox.set(clientMsgId, p);
      this.sendPending(p);
    });
  }

  /** Tells the others how far this person has read. */
  read(conversationId: string, seq: number): boolean {
    return this.sendFrame({ type: "read", conversation_id: conversationId, seq });
  }

  typing(conversationId: string): boolean {
    return this.sendFrame({ type: "typing", conversation_id: conversationId });
  }

  /** Sends any frame now; false when not connected (nothing is queued but `send`s). */
  sendFrame(frame: ClientFrame): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  // --- the connection ---

  private async connect(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.stopped || this.ws) return;
    this.setStatus(this.attempt === 0 ? "connecting" : "reconnecting");
    let url: string;
    try {
      url = this.client.wsUrl(await this.client.wsTicket());
    } catch (e) {
      if (e instanceof TalkZoneError && (e.status === 401 || e.code === "signed_out")) return this.signedOut();
      return this.retry();
    }
    if (this.stopped || this.ws) return;
    let ws: WebSocketLike;
    try {
      ws = new this.WS(url);
    } catch {
      return this.retry();
    }
    this.ws = ws;
    // A handshake that neither opens nor fails (a half-dead link) would wait forever.
    const openTimer = unref(
      setTimeout(() => {
        if (this.ws === ws && ws.readyState !== OPEN) {
          this.drop(4000);
          this.closed(1006);
        }
      }, this.connectTimeoutMs),
    );
    ws.onopen = () => {
      clearTimeout(openTimer);
      if (this.ws !== ws) return;
      this.attempt = 0;
      this.lastHeard = Date.now();
      this.setStatus("open");
      this.startPings(ws);
      this.scheduleRefresh();
      // Resume every followed conversation from its last `seq`, then resend the outbox in order.
      for (const [id, seq] of this.subs) this.sendFrame({ type: "subscribe", conversation_id: id, after_seq: seq });
      for (const p of this.outbox.values()) this.sendPending(p);
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.lastHeard = Date.now();
      let f: ServerFrame;
      try {
        f = JSON.parse(String(ev.data)) as ServerFrame;
      } catch {
        return;
      }
      this.handle(f);
    };
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      clearTimeout(openTimer);
      if (this.ws !== ws) return;
      this.closed(ev.code);
    };
  }

  private closed(code: number): void {
    this.ws = null;
    clearInterval(this.pingTimer);
    clearTimeout(this.tokenTimer);
    if (code === 4001) return this.signedOut();
    if (code === 4002) {
      // The token it held expired: a fresh one before the next ticket (the ticket call would
      // refresh it too; doing it here says why).
      // A refused refresh ends the session (signed_out, via onSession); any other failure (no
      // network) is tried again like any drop.
      const again = () => this.retry();
      this.client.refresh().then(again, again);
      return;
    }
    this.retry();
  }

  private retry(): void {
    if (this.stopped || this.reconnectTimer !== undefined) return;
    this.setStatus("reconnecting");
    // Exponential backoff with "equal jitter": half the wait fixed, half random.
    const base = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** this.attempt);
    this.attempt++;
    const wait = base / 2 + this.random() * (base / 2);
    this.reconnectTimer = unref(setTimeout(() => void this.connect(), wait));
  }

  // Before the token expires (its last minute), refresh it: the session listener hands the new
  // one to the socket. Without this a quiet app's socket would close with 4002 and reconnect.
  private scheduleRefresh(): void {
    clearTimeout(this.tokenTimer);
    const s = this.client.session;
    if (!s || this.stopped) return;
    const due = Math.max(0, s.expiresAt - this.client.refreshMarginMs - this.client.now() + 1);
    this.tokenTimer = unref(
      setTimeout(() => {
        if (this.ws) this.client.accessToken().catch(() => {});
      }, Math.min(due, 2 ** 31 - 1)),
    );
  }

  private startPings(ws: WebSocketLike): void {
    clearInterval(this.pingTimer);
    this.pingTimer = unref(setInterval(() => {
      if (this.ws !== ws) return;
      // A connection that lost its signal may never see a close: treat silence as one.
      if (Date.now() - this.lastHeard > this.pingIntervalMs * 2.5) {
        this.drop(4000);
        this.closed(1006);
        return;
      }
      this.sendFrame({ type: "ping" });
    }, this.pingIntervalMs));
  }

  /** Closes the socket without waiting for its close event (which a dead link never sends). */
  private drop(code: number): void {
    const ws = this.ws;
    this.ws = null;
    clearInterval(this.pingTimer);
    clearTimeout(this.tokenTimer);
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.onerror = () => {};
    try {
      ws.close(code);
    } catch {
      /* already closed */
    }
  }

  private signedOut(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.drop(1000);
    this.setStatus("signed_out");
    this.failOutbox(new TalkZoneError("signed_out", "the session ended: sign in again"));
  }

  // --- frames ---

  private handle(f: ServerFrame): void {
    switch (f.type) {
      case "message":
        this.message(f);
        break;
      case "ack":
        this.acked(f);
        break;
      case "error":
        if (f.ref && this.outbox.has(f.ref)) this.refused(this.outbox.get(f.ref)!, f);
        else for (const fn of this.handlers.error) fn(f);
        break;
      default:
        break;
    }
    for (const fn of this.handlers.frame) fn(f);
  }

  // The protocol's rule: at or below the last `seq` is a duplicate (dropped); above the next
  // one is a gap: subscribe again from the last `seq` and the server sends the missing ones in
  // order; only the next one is delivered.
  private message(m: Message): void {
    const last = this.subs.get(m.conversation_id);
    if (last === undefined) return;
    if (m.seq <= last) return;
    if (m.seq > last + 1) {
      this.sendFrame({ type: "subscribe", conversation_id: m.conversation_id, after_seq: last });
      return;
    }
    this.subs.set(m.conversation_id, m.seq);
    // Our own message, stored: if its ack was lost with a connection, this settles it.
    const p = m.client_msg_id ? this.outbox.get(m.client_msg_id) : undefined;
    if (p && p.conversationId === m.conversation_id) {
      this.settle(p);
      p.resolve({
        type: "ack",
        client_msg_id: p.clientMsgId,
        conversation_id: m.conversation_id,
        message_id: m.message_id,
        seq: m.seq,
        status: "delivered",
      });
    }
    const { type: _type, ...message } = m as Message & { type?: string };
    for (const fn of this.handlers.message) fn(message);
  }

  private acked(a: AckFrame): void {
    const p = this.outbox.get(a.client_msg_id);
    if (!p) return;
    this.settle(p);
    p.resolve(a);
  }

  private refused(p: Pending, f: ErrorFrame): void {
    if (f.code === "rate_limited" || f.code === "unavailable") {
      clearTimeout(p.retryTimer);
      p.retryTimer = setTimeout(() => this.sendPending(p), f.retry_after_ms ?? 1000);
      return;
    }
    this.settle(p);
    p.reject(new TalkZoneError(f.code, f.message, { retryAfterMs: f.retry_after_ms ?? undefined }));
  }

  private sendPending(p: Pending): void {
    if (this.outbox.get(p.clientMsgId) !== p) return;
    this.sendFrame({ type: "send", conversation_id: p.conversationId, client_msg_id: p.clientMsgId, body: p.body });
  }

  private settle(p: Pending): void {
    clearTimeout(p.retryTimer);
    this.outbox.delete(p.clientMsgId);
  }

  private chain(p: Pending, resolve: (a: AckFrame) => void, reject: (e: TalkZoneError) => void): void {
    const [r0, j0] = [p.resolve, p.reject];
    p.resolve = (a) => (r0(a), resolve(a));
    p.reject = (e) => (j0(e), reject(e));
  }

  private failOutbox(e: TalkZoneError): void {
    for (const p of [...this.outbox.values()]) {
      this.settle(p);
      p.reject(e);
    }
  }

  private setStatus(s: LiveStatus): void {
    if (this._status === s) return;
    this._status = s;
    for (const fn of this.handlers.status) fn(s);
  }
}
