// Shared by the young person's web chat and the staff console: the REST calls, a session that
// refreshes its access token, and DOM helpers that only ever set text (never HTML), so nothing
// a user typed can run as script. The WebSocket and the chat stream over it are in stream.js.

export class ApiError extends Error {
  constructor(status, code, message, retryAfterMs) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }
}

// The session lives in sessionStorage: it ends when the tab closes, which is what a young
// person on a shared or checked device needs.
export class Session {
  constructor(key) {
    this.key = key;
    this.data = JSON.parse(sessionStorage.getItem(key) || "null");
  }
  get user() { return this.data && this.data.user; }
  get active() { return this.data !== null; }
  set(tokens) {
    this.data = {
      user: tokens.user,
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      expires_at: Date.now() + tokens.expires_in * 1000,
      extra: (this.data && this.data.extra) || {},
    };
    this.save();
  }
  remember(name, value) {
    this.data.extra[name] = value;
    this.save();
  }
  recall(name) { return this.data && this.data.extra[name]; }
  save() { sessionStorage.setItem(this.key, JSON.stringify(this.data)); }
  clear() { this.data = null; sessionStorage.removeItem(this.key); }
  // An access token good for at least another minute, refreshed if need be.
  async token() {
    if (!this.data) throw new ApiError(401, "unauthorized", "not signed in");
    if (Date.now() > this.data.expires_at - 60000) {
      this.set(await call("POST", "/v1/auth/refresh", null, { refresh_token: this.data.refresh_token }));
    }
    return this.data.access_token;
  }
}

// One REST call; errors come back as ApiError with the protocol's code and message.
export async function call(method, path, token, body, extraHeaders) {
  const headers = Object.assign({}, extraHeaders);
  if (token) headers["Authorization"] = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, "unavailable", "Can't reach Talk Zone right now. Check your connection and try again.");
  }
  const text = await resp.text();
  const json = text ? JSON.parse(text) : null;
  if (!resp.ok) {
    const err = (json && json.error) || {};
    const retry = Number(resp.headers.get("Retry-After") || 0) * 1000;
    throw new ApiError(resp.status, err.code || "error", err.message || resp.statusText, retry || undefined);
  }
  return json;
}

export async function authed(session, method, path, body) {
  return call(method, path, await session.token(), body);
}

// Builds an element; strings become text nodes, never markup.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function clientMsgId() {
  return crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36) + Math.random().toString(36).slice(2);
}

export function timeOf(iso) {
  const d = new Date(iso);
  return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// Only http(s) links are made clickable: a `javascript:` URL in a card would be script.
export function safeUrl(url) {
  try {
    const u = new URL(url);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
  } catch (e) {
    return null;
  }
}

// A message's body as the person should see it: text, or a service card (whose body is the
// directory entry as JSON).
export function renderBody(message) {
  if (message.kind !== "service_card") return el("p", { class: "body" }, message.body);
  let card;
  try { card = JSON.parse(message.body); } catch (e) { return el("p", { class: "body" }, message.body); }
  const url = card.url && safeUrl(card.url);
  return el("div", { class: "card" },
    el("strong", {}, card.name || "A local service"),
    card.description ? el("p", {}, card.description) : null,
    card.area ? el("p", { class: "muted" }, card.area) : null,
    card.hours ? el("p", { class: "muted" }, card.hours) : null,
    card.phone ? el("p", {}, el("a", { href: "tel:" + card.phone.replace(/[^0-9+]/g, "") }, card.phone)) : null,
    url ? el("p", {}, el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url)) : null);
}

// A message in the page's `#error` line: a problem, or ("info") a confirmation. It stays until
// the next one replaces it or the page hides it: a message that vanishes after a few seconds
// is lost to a slow reader or a screen reader user who was elsewhere (WCAG 2.2.1).
export function showError(text) {
  flash(text, "error");
}

export function showInfo(text) {
  flash(text, "info");
}

function flash(text, kind) {
  const line = document.getElementById("error");
  line.className = kind;
  line.setAttribute("role", kind === "error" ? "alert" : "status");
  line.textContent = text;
  line.hidden = false;
}

// Tells the others in a chat that someone is typing in `field`, at most every 3 s.
// `current()` gives the connection and the chat's id, or nothing while there is no chat.
export function announceTyping(field, current) {
  let last = 0;
  document.getElementById(field).addEventListener("input", () => {
    const now = current();
    if (now && Date.now() - last > 3000) {
      last = Date.now();
      now.live.send({ type: "typing", conversation_id: now.id });
    }
  });
}

// "… is typing" under a chat for a few seconds after each `typing` frame.
export function showTyping(user) {
  const line = document.getElementById("typing");
  line.textContent = `${user.display_name} is typing…`;
  line.hidden = false;
  clearTimeout(showTyping.timer);
  showTyping.timer = setTimeout(() => { line.hidden = true; }, 4000);
}

// The staff pages' sign-in (and its second step, and the reset-link form) is in signin.js.
