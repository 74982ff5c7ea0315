// The chats a worker (or a supervisor) follows: "My chats", and the one on screen with its
// header (risk in colour and words, the first-reply clock), messages, earlier chats, the
// composer (Enter sends, saved replies) and the staff actions, each answering beside itself.
import { authed, el, clientMsgId, timeOf, renderBody, showTyping, announceTyping, categoryWords } from "./common.js";
import { ChatStream } from "./stream.js";
import { say, unsay, riskBadge, clock, secondsUntil, confirmInline, personName } from "./console-ui.js";
import { markable, verdictControl } from "./console-verdict.js";

// How a closed chat ended, as the worker reads it: a quick exit is not someone who left in
// anger (they may have been interrupted, or not be safe), nor someone who stopped answering.
const CLOSED_REASON = {
  quick_exit: "they left with the quick exit: they may have been interrupted or not be safe",
  ended: "they ended the chat",
  no_response: "they stopped answering (no response)",
  staff: "closed by staff",
};

const $ = (id) => document.getElementById(id);
const path = (id, rest = "") => `/v1/conversations/${encodeURIComponent(id)}${rest}`;

export class ChatPane {
  // `desk`: { session, live(), alerts, supervisor }.
  constructor(desk) {
    this.desk = desk;
    this.chats = new Map(); // id -> { conv, stream, messages, unread, watching }
    this.open = null;
    this.canned = [];
    this.accepting = new Set(); // chats this worker is accepting: no alert when they arrive
    this.bind();
    setInterval(() => this.tick(), 1000);
  }

  get me() { return this.desk.session.user; }

  bind() {
    announceTyping("text", () => this.writable() && { live: this.desk.live(), id: this.open });
    $("text").addEventListener("keydown", (ev) => {
      // Enter sends; Shift+Enter is a new line (and so is Enter while an IME composes).
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        $("send-form").requestSubmit();
      }
    });
    $("send-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const body = $("text").value;
      if (!body.trim() || !this.writable()) return;
      $("text").value = "";
      // Shown at once as sending; the stored message replaces it when it comes back.
      $("messages").append(this.chats.get(this.open).stream.send(body, this.me.display_name));
      $("messages").scrollTop = $("messages").scrollHeight;
    });
    $("canned").addEventListener("change", () => this.insertCanned());
    $("close-form").addEventListener("submit", (ev) => { ev.preventDefault(); this.askToClose(); });
    $("escalate-form").addEventListener("submit", (ev) => { ev.preventDefault(); this.escalate(); });
    $("service-form").addEventListener("submit", (ev) => { ev.preventDefault(); this.searchServices(); });
    $("tags-form").addEventListener("submit", (ev) => { ev.preventDefault(); this.saveTags(); });
    $("transfer-form").addEventListener("submit", (ev) => { ev.preventDefault(); this.transfer(); });
    $("note-form").addEventListener("submit", (ev) => { ev.preventDefault(); this.addNote(); });
    $("chat-join").addEventListener("click", () => this.join(this.open));
    $("chat-dismiss").addEventListener("click", () => this.forget(this.open));
  }

  // Whether the one on screen is the caller's to write in (theirs, or joined; and open).
  writable() {
    const chat = this.open && this.chats.get(this.open);
    return Boolean(chat && !chat.watching && chat.conv.state !== "closed");
  }

  // Follows a chat: its messages from the start, then live. `watching`: a supervisor reading
  // a chat they have not joined.
  add(conv, watching = false) {
    const existing = this.chats.get(conv.id);
    if (existing) {
      existing.watching = existing.watching && watching;
      return existing;
    }
    const chat = { conv, messages: [], unread: 0, watching };
    chat.stream = new ChatStream(this.desk.live(), conv.id, {
      message: (m) => this.received(chat, m),
      // A rate-limited send goes again by itself; any other refusal is said under the reply box.
      refused: (f) => { if (f.code !== "rate_limited") say($("send-form"), f.message); },
    });
    this.chats.set(conv.id, chat);
    chat.stream.resume();
    this.renderMine();
    return chat;
  }

  received(chat, m) {
    chat.messages.push(m);
    const fromMe = m.sender && m.sender.id === this.me.id;
    // "New" counts what others said since the worker last replied or looked.
    if (fromMe) chat.unread = 0;
    if (this.open !== chat.conv.id) {
      if (!fromMe && m.kind !== "system") chat.unread += 1;
      this.renderMine();
      return false;
    }
    this.addMessage(m);
    return true;
  }

  // Every `conversation` the console hears of (its own answers, and frames). False when it is
  // not one this pane follows.
  // `quiet`: what the desk already had (a reload), not news to alert about.
  update(conv, quiet = false) {
    const mine = conv.assigned_to && conv.assigned_to.id === this.me.id;
    let chat = this.chats.get(conv.id);
    if (!chat && mine && conv.state === "assigned") {
      chat = this.add(conv);
      // Given to them by auto-routing or a colleague's transfer, not taken: that is news.
      if (!quiet && !this.accepting.has(conv.id)) this.desk.alerts.given(conv.risk, personName(conv.young_person));
      if (!this.open) this.show(conv.id);
    }
    if (!chat) return false;
    if (!mine && conv.state !== "closed" && !this.desk.supervisor) {
      // Transferred or requeued: it is someone else's now.
      this.forget(conv.id);
      return true;
    }
    const wasOpen = chat.conv.state !== "closed";
    chat.conv = conv;
    this.renderMine();
    if (this.open === conv.id) this.renderHeader();
    if (wasOpen && conv.state === "closed" && this.open !== conv.id) {
      this.desk.alerts.announce(`The chat with ${personName(conv.young_person)} has closed.`);
    }
    return true;
  }

  forget(id) {
    const chat = this.chats.get(id);
    if (!chat) return;
    this.chats.delete(id);
    chat.stream.close();
    if (this.open === id) {
      this.open = null;
      $("chat").hidden = true;
    }
    this.renderMine();
  }

  unread() {
    let n = 0;
    for (const c of this.chats.values()) n += c.unread;
    return n;
  }

  renderMine() {
    const rows = [...this.chats.values()].filter((c) => !c.watching || this.open === c.conv.id);
    $("mine").replaceChildren(...rows.map((chat) => {
      const { conv } = chat;
      const due = this.dueIn(chat);
      return el("li", { "data-conversation-id": conv.id, class: [conv.state, chat.unread ? "unread" : "", this.open === conv.id ? "current" : ""].join(" ") },
        el("button", { type: "button", class: "link", onclick: () => this.show(conv.id), "aria-current": this.open === conv.id ? "true" : null },
          personName(conv.young_person) + (conv.topic ? ` · ${conv.topic}` : "")),
        riskBadge(conv.risk),
        chat.unread ? el("span", { class: "console-unread", "aria-label": `${chat.unread} new message${chat.unread === 1 ? "" : "s"}` }, `${chat.unread} new`) : null,
        due !== null ? el("span", { class: "console-due" + (due < 30 ? " urgent" : ""), "data-due": conv.id }, `reply within ${clock(Math.max(0, due))}`) : null,
        conv.state === "closed" ? el("span", { class: "muted" }, "closed") : null,
        chat.watching ? el("span", { class: "muted" }, "reading") : null);
    }));
    const n = rows.length;
    $("mine-count").textContent = n ? `(${n})` : "(none)";
    this.desk.alerts.set("unread", this.unread());
  }

  // Seconds until the first-reply deadline of a chat of the caller's, or null.
  dueIn(chat) {
    const c = chat.conv;
    if (c.state !== "assigned" || !c.first_reply_due_at || !c.assigned_to || c.assigned_to.id !== this.me.id) return null;
    return secondsUntil(c.first_reply_due_at);
  }

  tick() {
    for (const chat of this.chats.values()) {
      const due = this.dueIn(chat);
      const line = document.querySelector(`#mine [data-due="${CSS.escape(chat.conv.id)}"]`);
      if (line && due !== null) {
        line.textContent = `reply within ${clock(Math.max(0, due))}`;
        line.classList.toggle("urgent", due < 30);
      }
    }
    this.renderClock();
  }

  renderClock() {
    const line = $("reply-clock");
    const chat = this.open && this.chats.get(this.open);
    const due = chat ? this.dueIn(chat) : null;
    line.hidden = due === null;
    if (due === null) return;
    line.classList.toggle("urgent", due < 30);
    line.textContent = due > 0
      ? `Reply within ${clock(due)}: with no reply by then the chat goes back to the queue.`
      : "No reply yet: the chat is going back to the queue.";
  }

  show(id) {
    const chat = this.chats.get(id);
    if (!chat) return;
    this.open = id;
    chat.unread = 0;
    $("chat").hidden = false;
    this.renderHeader();
    $("messages").replaceChildren();
    for (const m of chat.messages) this.addMessage(m);
    $("messages").append(...chat.stream.unsettled());
    chat.stream.read();
    this.renderMine();
    for (const f of ["send-form", "close-form", "escalate-form", "tags-form", "transfer-form", "note-form", "service-form"]) unsay($(f));
    $("notes").replaceChildren();
    $("services").replaceChildren();
    this.loadNotes(id);
    this.loadEarlier(id);
    if (this.writable()) this.loadColleagues();
  }

  renderHeader() {
    const chat = this.chats.get(this.open);
    if (!chat) return;
    const conv = chat.conv;
    $("chat-title").textContent = personName(conv.young_person, "Chat") + (conv.topic ? ` · ${conv.topic}` : "");
    $("chat-risk").replaceChildren(riskBadge(conv.risk));
    const who = conv.assigned_to ? (conv.assigned_to.id === this.me.id ? "with you" : `with ${conv.assigned_to.display_name}`) : "";
    $("chat-state").textContent = [conv.state, who, CLOSED_REASON[conv.closed_reason],
      conv.outcome && `outcome: ${conv.outcome.replaceAll("_", " ")}`,
      conv.tags && conv.tags.length && `tags: ${conv.tags.join(", ")}`].filter(Boolean).join(" · ");
    if (document.activeElement !== $("tags")) $("tags").value = (conv.tags || []).join(", ");
    const closed = conv.state === "closed";
    const writable = this.writable();
    for (const f of ["send-form", "close-form", "escalate-form", "service-form", "transfer-form"]) $(f).hidden = !writable;
    $("canned-row").hidden = !writable || !this.canned.length;
    $("chat-join").hidden = !(chat.watching && !closed);
    $("chat-dismiss").hidden = !closed;
    $("watching-note").hidden = !(chat.watching && !closed);
    this.renderClock();
  }

  addMessage(m) {
    const staff = m.sender && m.sender.role !== "young_person";
    const flags = m.moderation && m.moderation.severity !== "none"
      ? riskBadge(m.moderation.severity, m.moderation.labels.length ? `: ${m.moderation.labels.map(categoryWords).join(", ")}` : "")
      : null;
    $("messages").append(el("li", { class: m.kind === "system" ? "system" : staff ? "mine" : "theirs", "data-seq": m.seq },
      el("span", { class: "who" }, m.kind === "system" ? "Talk Zone" : m.sender ? m.sender.display_name : ""),
      renderBody(m),
      flags,
      el("span", { class: "meta" }, timeOf(m.sent_at)),
      markable(m) ? verdictControl(this.desk.session, m) : null));
    $("messages").scrollTop = $("messages").scrollHeight;
  }

  // --- saved (canned) replies --------------------------------------------------------------

  async loadCanned() {
    try {
      this.canned = (await authed(this.desk.session, "GET", "/v1/canned-replies")).canned_replies;
    } catch (e) {
      this.canned = [];
    }
    $("canned").replaceChildren(el("option", { value: "" }, "Saved replies…"),
      ...this.canned.map((c) => el("option", { value: c.id }, c.title)));
    if (this.open) this.renderHeader();
  }

  // Puts the chosen reply into the reply box, its variables filled in, for the worker to read
  // over (and change) before sending: nothing is sent by choosing it.
  insertCanned() {
    const c = this.canned.find((x) => x.id === $("canned").value);
    $("canned").value = "";
    const chat = this.chats.get(this.open);
    if (!c || !chat) return;
    const values = { worker_name: this.me.display_name, young_person_name: personName(chat.conv.young_person, "there") };
    const text = c.body.replace(/\{(worker_name|young_person_name)\}/g, (_, name) => values[name]);
    const box = $("text");
    const [a, b] = [box.selectionStart ?? box.value.length, box.selectionEnd ?? box.value.length];
    box.value = box.value.slice(0, a) + text + box.value.slice(b);
    box.focus();
    box.selectionStart = box.selectionEnd = a + text.length;
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // --- the staff actions -------------------------------------------------------------------

  askToClose() {
    if (!this.writable()) return;
    const id = this.open;
    const outcome = $("outcome").value;
    if (!outcome) return say($("close-form"), "Choose how the chat ended first.");
    const name = personName(this.chats.get(id).conv.young_person);
    confirmInline($("close-form"), `Close the chat with ${name} as “${outcome.replaceAll("_", " ")}”? They will be told it has ended.`,
      "Yes, close the chat", () => this.close(id, outcome));
  }

  async close(id, outcome) {
    try {
      // No tags here: the chat keeps the ones it has (the server adds, never wipes).
      const conv = await authed(this.desk.session, "POST", path(id, "/close"), { outcome });
      this.update(conv);
      say($("close-form"), "Chat closed.", "info");
      this.desk.alerts.announce("Chat closed.");
    } catch (e) {
      say($("close-form"), e.message);
    }
  }

  async escalate() {
    if (!this.writable()) return;
    const form = $("escalate-form");
    try {
      await authed(this.desk.session, "POST", path(this.open, "/escalations"), { severity: $("severity").value, reason: $("reason").value });
      $("reason").value = "";
      $("severity").value = "";
      say(form, "Escalated: supervisors have been alerted.", "info");
    } catch (e) {
      say(form, e.message);
    }
  }

  async searchServices() {
    const form = $("service-form");
    try {
      const list = await authed(this.desk.session, "GET", `/v1/services?q=${encodeURIComponent($("service-q").value.trim())}`);
      unsay(form);
      $("services").replaceChildren(...list.services.map((svc) => el("li", { "data-service-id": svc.id },
        el("strong", {}, svc.name),
        el("span", { class: "muted" }, [svc.category, svc.area].filter(Boolean).join(" · ")),
        el("button", { type: "button", onclick: () => this.share(svc.id) }, "Share"))));
      if (!list.services.length) $("services").append(el("li", { class: "muted" }, "Nothing found."));
    } catch (e) {
      say(form, e.message);
    }
  }

  async share(serviceId) {
    if (!this.writable()) return;
    try {
      await authed(this.desk.session, "POST", path(this.open, "/service-cards"), { service_id: serviceId, client_msg_id: clientMsgId() });
      $("services").replaceChildren();
      $("service-q").value = "";
      say($("service-form"), "Shared into the chat.", "info");
    } catch (e) {
      say($("service-form"), e.message);
    }
  }

  async saveTags() {
    if (!this.open) return;
    const form = $("tags-form");
    try {
      const tags = $("tags").value.split(",").map((t) => t.trim()).filter(Boolean);
      const conv = await authed(this.desk.session, "PUT", path(this.open, "/tags"), { tags });
      this.update(conv);
      say(form, "Tags saved.", "info");
    } catch (e) {
      say(form, e.message);
    }
  }

  // Transfer to a colleague on duty; a supervisor can take a chat over by choosing themself.
  async transfer() {
    if (!this.open) return;
    const form = $("transfer-form");
    try {
      const conv = await authed(this.desk.session, "POST", path(this.open, "/transfer"),
        { to: $("transfer-to").value, reason: $("transfer-reason").value.trim() });
      $("transfer-reason").value = "";
      const to = conv.assigned_to ? conv.assigned_to.display_name : "a colleague";
      this.update(conv);
      // The form may be gone with the chat: say it where the worker is now.
      say(this.open ? form : $("mine"), `Passed to ${to}.`, "info");
    } catch (e) {
      say(form, e.message);
    }
  }

  async loadColleagues() {
    try {
      const desk = await authed(this.desk.session, "GET", "/v1/desk");
      const others = desk.on_duty.map((w) => w.user).filter((u) => u.id !== this.me.id);
      const me = this.desk.supervisor ? [{ id: this.me.id, display_name: "me (take over)" }] : [];
      $("transfer-to").replaceChildren(...[...me, ...others].map((u) => el("option", { value: u.id }, u.display_name)));
    } catch (e) {
      say($("transfer-form"), e.message);
    }
  }

  async addNote() {
    if (!this.open) return;
    const form = $("note-form");
    try {
      await authed(this.desk.session, "POST", path(this.open, "/notes"), { body: $("note").value });
      $("note").value = "";
      unsay(form);
      this.loadNotes(this.open);
    } catch (e) {
      say(form, e.message);
    }
  }

  async loadNotes(id) {
    try {
      const list = await authed(this.desk.session, "GET", path(id, "/notes"));
      if (this.open !== id) return;
      $("notes").replaceChildren(...list.notes.map((n) => el("li", {},
        el("span", { class: "who" }, n.author.display_name), el("span", { class: "body" }, n.body), el("span", { class: "meta" }, timeOf(n.created_at)))));
    } catch (e) {
      say($("note-form"), e.message);
    }
  }

  // The young person's earlier chats: how they went, for whoever has this one now.
  async loadEarlier(id) {
    const box = $("earlier");
    box.hidden = true;
    try {
      const list = await authed(this.desk.session, "GET", path(id, "/earlier"));
      if (this.open !== id) return;
      $("earlier-count").textContent = list.chats.length ? `(${list.chats.length})` : "(none)";
      $("earlier-list").replaceChildren(...list.chats.map((c) => el("li", { "data-conversation-id": c.id },
        el("span", {}, new Date(c.created_at).toLocaleDateString([], { day: "numeric", month: "short", year: "numeric" })),
        riskBadge(c.risk),
        el("span", {}, c.outcome ? c.outcome.replaceAll("_", " ") : c.state === "closed" ? "no outcome" : "still open"),
        c.tags.length ? el("span", { class: "muted" }, `tags: ${c.tags.join(", ")}`) : null,
        c.worker ? el("span", { class: "muted" }, `with ${c.worker.display_name}`) : null)));
      if (!list.chats.length) $("earlier-list").append(el("li", { class: "muted" }, "This is their first chat with Talk Zone."));
      box.open = list.chats.length > 0;
      box.hidden = false;
    } catch (e) {
      // Not theirs to see (a chat handed on meanwhile): nothing to show.
    }
  }

  // A supervisor reading a chat joins it to write (the young person is told who and why).
  async join(id) {
    if (!id) return;
    try {
      const conv = await authed(this.desk.session, "POST", path(id, "/join"));
      const chat = this.add(conv, false);
      chat.watching = false;
      chat.conv = conv;
      this.show(conv.id);
      this.desk.onJoined && this.desk.onJoined();
    } catch (e) {
      say($("chat-join"), e.message);
    }
  }

  // Opens any chat the caller may read (a supervisor from an escalation or the live list).
  async openById(id) {
    if (this.chats.has(id)) return this.show(id);
    const conv = await authed(this.desk.session, "GET", path(id));
    const mine = conv.assigned_to && conv.assigned_to.id === this.me.id;
    this.add(conv, !mine);
    this.show(id);
  }

  typing(f) {
    if (f.conversation_id === this.open) showTyping(f.user);
  }

  // Each followed chat's stream takes its frames first.
  handle(f) {
    for (const chat of this.chats.values()) if (chat.stream.handle(f)) return true;
    return false;
  }

  resumeAll() {
    for (const chat of this.chats.values()) chat.stream.resume();
  }

  // Alt+N: the next chat, those with new messages first.
  next() {
    const list = [...this.chats.values()].filter((c) => !c.watching);
    if (!list.length) return;
    const waiting = list.find((c) => c.unread && c.conv.id !== this.open);
    const i = list.findIndex((c) => c.conv.id === this.open);
    const target = waiting || list[(i + 1) % list.length];
    this.show(target.conv.id);
    $(this.writable() ? "text" : "messages").focus();
  }
}
