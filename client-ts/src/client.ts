// The REST half: signing in and coming back, tokens kept fresh, conversations, push.
import { TalkZoneError } from "./errors.js";
import type { KeyValueStorage } from "./storage.js";
import type {
  Conversation,
  DeviceCredential,
  Message,
  MessagesPage,
  PushSubscriptionCreated,
  PushSubscriptionRequest,
  PushSubscriptionView,
  TokenResponse,
  UserView,
} from "./types.js";

/**
 * Every route this package calls, as the OpenAPI document names it. The tests check each one
 * against the running server's `/v1/openapi.json` (test/drift.test.mjs).
 */
export const ROUTES = {
  anonymous: ["POST", "/v1/auth/anonymous"],
  device: ["POST", "/v1/auth/device"],
  recover: ["POST", "/v1/auth/recover"],
  refresh: ["POST", "/v1/auth/refresh"],
  logout: ["POST", "/v1/auth/logout"],
  me: ["GET", "/v1/me"],
  createDeviceCredential: ["POST", "/v1/me/device-credentials"],
  deleteDeviceCredential: ["DELETE", "/v1/me/device-credentials/{id}"],
  createRecoveryPhrase: ["POST", "/v1/me/recovery-phrase"],
  wsTicket: ["POST", "/v1/ws-ticket"],
  openChat: ["POST", "/v1/conversations"],
  listConversations: ["GET", "/v1/conversations"],
  getConversation: ["GET", "/v1/conversations/{id}"],
  messages: ["GET", "/v1/conversations/{id}/messages"],
  endChat: ["POST", "/v1/conversations/{id}/end"],
  webPushKey: ["GET", "/v1/push/web-push-key"],
  registerPush: ["POST", "/v1/me/push-subscriptions"],
  listPush: ["GET", "/v1/me/push-subscriptions"],
  deletePush: ["DELETE", "/v1/me/push-subscriptions/{id}"],
} as const satisfies Record<string, readonly ["GET" | "POST" | "PUT" | "DELETE", string]>;

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** The server, e.g. `https://talkzone.example.org`. */
  baseUrl: string;
  /** Where the device credential is kept once the young person says the device is their own. */
  storage?: KeyValueStorage;
  /** The storage key (default `talkzone.device`). */
  storageKey?: string;
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike;
  /** Refresh the access token this long before it expires (default 60 s). */
  refreshMarginMs?: number;
  /** Milliseconds since the epoch (default `Date.now`); tests move it. */
  now?: () => number;
}

/** What the client holds while signed in. Never stored by this package. */
export interface Session {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires (ms since the epoch, by `now`). */
  expiresAt: number;
  user: UserView;
}

interface StoredDevice {
  id: string;
  credential: string;
}

type Listener = (s: Session | null) => void;

export class TalkZoneClient {
  readonly baseUrl: string;
  private readonly storage?: KeyValueStorage;
  private readonly storageKey: string;
  private readonly fetchImpl: FetchLike;
  readonly refreshMarginMs: number;
  readonly now: () => number;
  private current: Session | null = null;
  // One refresh at a time: presenting a spent refresh token ends the whole session.
  private refreshing: Promise<Session> | null = null;
  private readonly listeners = new Set<Listener>();

  constructor(opts: ClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.storage = opts.storage;
    this.storageKey = opts.storageKey ?? "talkzone.device";
    const f = opts.fetch ?? (globalThis.fetch as FetchLike | undefined);
    if (!f) throw new TypeError("no fetch: pass one in ClientOptions.fetch");
    this.fetchImpl = f;
    this.refreshMarginMs = opts.refreshMarginMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** The session, or null when signed out. */
  get session(): Session | null {
    return this.current;
  }

  /** Hears every new session (a sign-in or a refresh) and `null` when it ends. */
  onSession(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Uses tokens obtained elsewhere (a staff sign-in, say). */
  useTokens(t: TokenResponse): Session {
    const s: Session = {
      accessToken: t.access_token,
      refreshToken: t.refresh_token,
      expiresAt: this.now() + t.expires_in * 1000,
      user: t.user,
    };
    this.current = s;
    for (const fn of this.listeners) fn(s);
    return s;
  }

  private endSession(): void {
    if (this.current === null) return;
    this.current = null;
    for (const fn of this.listeners) fn(null);
  }

  // --- signing in and coming back ---

  /** A new anonymous young person: no personal data, a friendly random name. */
  async signInAnonymously(): Promise<Session> {
    return this.useTokens(await this.call<TokenResponse>(ROUTES.anonymous, {}, { auth: false }));
  }

  /**
   * Signs back in with this device's kept credential (a new app start). False when the device
   * keeps none; a credential the server refuses (forgotten elsewhere, unused too long, the
   * account deleted) is dropped from storage and false returned. Other failures throw.
   */
  async signInWithStoredDevice(): Promise<boolean> {
    const device = await this.storedDevice();
    if (!device) return false;
    try {
      await this.signInWithDevice(device.credential);
      return true;
    } catch (e) {
      if (e instanceof TalkZoneError && e.status === 401) {
        await this.storage?.removeItem(this.storageKey);
        return false;
      }
      throw e;
    }
  }

  /** Signs in with a device credential held by the app itself. */
  async signInWithDevice(credential: string): Promise<Session> {
    return this.useTokens(await this.call<TokenResponse>(ROUTES.device, { credential }, { auth: false }));
  }

  /** Continues on this device with the ten words written down (`422` names a mistyped word). */
  async recover(phrase: string): Promise<Session> {
    return this.useTokens(await this.call<TokenResponse>(ROUTES.recover, { phrase }, { auth: false }));
  }

  /**
   * Remembers the young person on this device: call it only when they said the device is
   * their own (a shared or checked phone must not open their chat). Keeps the credential in
   * the storage given to the constructor.
   */
  async rememberThisDevice(): Promise<{ id: string }> {
    if (!this.storage) throw new TypeError("rememberThisDevice needs ClientOptions.storage");
    const c = await this.call<DeviceCredential>(ROUTES.createDeviceCredential, {});
    const kept: StoredDevice = { id: c.id, credential: c.credential };
    await this.storage.setItem(this.storageKey, JSON.stringify(kept));
    return { id: c.id };
  }

  /** Whether this device keeps a credential. */
  async remembersDevice(): Promise<boolean> {
    return (await this.storedDevice()) !== null;
  }

  /**
   * Forgets this device: dropped here first (so a quick exit leaves nothing even offline),
   * then the server told to forget it too when signed in.
   */
  async forgetThisDevice(): Promise<void> {
    const device = await this.storedDevice();
    await this.storage?.removeItem(this.storageKey);
    if (device && this.current) {
      try {
        await this.call<void>(ROUTES.deleteDeviceCredential, undefined, { path: { id: device.id } });
      } catch (e) {
        // Already forgotten on the server: the same answer as never known.
        if (!(e instanceof TalkZoneError && e.status === 404)) throw e;
      }
    }
  }

  /** Ten words to write down, shown once; an earlier phrase stops working. */
  async createRecoveryPhrase(): Promise<string> {
    return (await this.call<{ phrase: string }>(ROUTES.createRecoveryPhrase, {})).phrase;
  }

  /** Ends this session on the server (the device stays remembered: see forgetThisDevice). */
  async signOut(): Promise<void> {
    const s = this.current;
    if (!s) return;
    try {
      await this.call<unknown>(ROUTES.logout, { refresh_token: s.refreshToken }, { auth: false });
    } finally {
      this.endSession();
    }
  }

  async me(): Promise<UserView> {
    return this.call<UserView>(ROUTES.me);
  }

  // --- tokens ---

  /** An access token valid for at least the refresh margin, refreshed first if needed. */
  async accessToken(): Promise<string> {
    const s = this.current;
    if (!s) throw new TalkZoneError("signed_out", "not signed in");
    if (s.expiresAt - this.now() > this.refreshMarginMs) return s.accessToken;
    return (await this.refresh()).accessToken;
  }

  /**
   * A new access token (and refresh token; the old one is spent). Concurrent callers share one
   * request. A refused refresh ends the session: sign in again.
   */
  refresh(): Promise<Session> {
    if (this.refreshing) return this.refreshing;
    const s = this.current;
    if (!s) return Promise.reject(new TalkZoneError("signed_out", "not signed in"));
    this.refreshing = (async () => {
      try {
        const t = await this.call<TokenResponse>(ROUTES.refresh, { refresh_token: s.refreshToken }, { auth: false });
        return this.useTokens(t);
      } catch (e) {
        if (e instanceof TalkZoneError && e.status === 401 && this.current === s) this.endSession();
        throw e;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** A single-use ticket for the WebSocket (30 s). */
  async wsTicket(): Promise<string> {
    return (await this.call<{ ticket: string; expires_in: number }>(ROUTES.wsTicket, {})).ticket;
  }

  /** `ws://…/v1/ws?ticket=…` for this server. */
  wsUrl(ticket: string): string {
    const u = new URL(this.baseUrl + "/v1/ws");
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    u.searchParams.set("ticket", ticket);
    return u.toString();
  }

  // --- conversations ---

  /** Opens a support chat (or returns the open one); `firstMessage` is stored once however often retried. */
  async openChat(opts: { topic?: string; firstMessage?: string } = {}): Promise<Conversation> {
    const body: Record<string, string> = {};
    if (opts.topic !== undefined) body.topic = opts.topic;
    if (opts.firstMessage !== undefined) body.first_message = opts.firstMessage;
    return this.call<Conversation>(ROUTES.openChat, body);
  }

  async listConversations(): Promise<Conversation[]> {
    return (await this.call<{ conversations: Conversation[] }>(ROUTES.listConversations)).conversations;
  }

  async getConversation(id: string): Promise<Conversation> {
    return this.call<Conversation>(ROUTES.getConversation, undefined, { path: { id } });
  }

  /** Stored messages with `seq > afterSeq`, at most `limit` (1–500). */
  async messages(id: string, afterSeq = 0, limit = 100): Promise<MessagesPage> {
    return this.call<MessagesPage>(ROUTES.messages, undefined, {
      path: { id },
      query: { after_seq: String(afterSeq), limit: String(limit) },
    });
  }

  /** Every stored message of a conversation, page by page. */
  async allMessages(id: string): Promise<Message[]> {
    const out: Message[] = [];
    let after = 0;
    for (;;) {
      const page = await this.messages(id, after, 500);
      out.push(...page.messages);
      if (page.messages.length < 500) return out;
      after = page.next_after_seq;
    }
  }

  /** The young person ends their own chat (`quick_exit` when leaving in a hurry). */
  async endChat(id: string, reason: "ended" | "quick_exit" = "ended"): Promise<Conversation> {
    return this.call<Conversation>(ROUTES.endChat, { reason }, { path: { id } });
  }

  // --- push ---

  /** The VAPID application server key for `PushManager.subscribe` (503 when not configured). */
  async webPushKey(): Promise<string> {
    const signedIn = this.current !== null;
    return (await this.call<{ public_key: string }>(ROUTES.webPushKey, undefined, { auth: signedIn })).public_key;
  }

  /** Registers this device for notifications; registering it again returns the same one. */
  async registerPush(sub: PushSubscriptionRequest): Promise<PushSubscriptionCreated> {
    return this.call<PushSubscriptionCreated>(ROUTES.registerPush, sub);
  }

  async listPushSubscriptions(): Promise<PushSubscriptionView[]> {
    return (await this.call<{ subscriptions: PushSubscriptionView[] }>(ROUTES.listPush)).subscriptions;
  }

  async deletePushSubscription(id: string): Promise<void> {
    await this.call<void>(ROUTES.deletePush, undefined, { path: { id } });
  }

  // --- the one way to the server ---

  /**
   * One request. Signed-in requests carry a fresh token; a `401` (the token expired early, the
   * clock is wrong) refreshes once and tries again. Other refusals throw TalkZoneError.
   */
  async call<T>(
    route: readonly [string, string],
    body?: unknown,
    opts: { auth?: boolean; path?: Record<string, string>; query?: Record<string, string> } = {},
  ): Promise<T> {
    const [method, template] = route;
    let path = template.replace(/\{(\w+)\}/g, (_, k: string) => {
      const v = opts.path?.[k];
      if (v === undefined) throw new TypeError(`missing path parameter ${k}`);
      return encodeURIComponent(v);
    });
    if (opts.query) path += "?" + new URLSearchParams(opts.query).toString();
    const auth = opts.auth ?? true;
    const send = async (token: string | null) => {
      const headers: Record<string, string> = { accept: "application/json" };
      if (body !== undefined) headers["content-type"] = "application/json";
      if (token) headers.authorization = `Bearer ${token}`;
      try {
        return await this.fetchImpl(this.baseUrl + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (e) {
        throw new TalkZoneError("network", `could not reach the server: ${(e as Error).message}`);
      }
    };
    let res = await send(auth ? await this.accessToken() : null);
    if (res.status === 401 && auth && this.current) {
      await res.body?.cancel();
      res = await send((await this.refresh()).accessToken);
    }
    const text = await res.text();
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    if (!res.ok) throw TalkZoneError.fromHttp(res.status, parsed, res.headers.get("retry-after"));
    return parsed as T;
  }

  private async storedDevice(): Promise<StoredDevice | null> {
    if (!this.storage) return null;
    const raw = await this.storage.getItem(this.storageKey);
    if (!raw) return null;
    try {
      const d = JSON.parse(raw) as StoredDevice;
      return typeof d.credential === "string" && typeof d.id === "string" ? d : null;
    } catch {
      return null;
    }
  }
}
