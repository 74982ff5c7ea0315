// The staff console: sign in, go on duty, watch the queue live (highest risk first, no
// refresh), accept chats, talk, escalate, note, close with an outcome; supervisors also see
// escalations as they are raised; moderators and supervisors work the moderation queue. Every
// user-written string is shown as text, never as markup.
import { Session, authed, el, clientMsgId, timeOf, renderBody, showError, showInfo, showTyping, announceTyping } from "./common.js";
import { staffSignIn } from "./signin.js";
import { Live, ChatStream } from "./stream.js";

const $ = (id) => document.getElementById(id);
const STAFF = ["duty_worker", "supervisor", "moderator"];
const session = new Session("talkzone.console");
let live = null;
let onDuty = false;
let open = null; // the conversation on screen
const chats = new Map(); // id -> { conv, stream, messages: [] }

staffSignIn(session, STAFF, "This console is for duty workers, supervisors and moderators.", () => start(), () => live && live.stop());

$("duty").addEventListener("click", () => {
  live.send({ type: "duty", on_duty: !onDuty });
});

announceTyping("text", () => open && live && { live, id: open });

$("send-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const body = $("text").value;
  if (!body.trim() || !open) return;
  $("text").value = "";
  // Shown at once as sending; the stored message replaces it when it comes back.
  $("messages").append(chats.get(open).stream.send(body, session.user.display_name));
});

$("close-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!open) return;
  try {
    const conv = await authed(session, "POST", `/v1/conversations/${encodeURIComponent(open)}/close`, { outcome: $("outcome").value });
    updateConversation(conv);
  } catch (e) {
    showError(e.message);
  }
});

$("escalate-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!open) return;
  try {
    await authed(session, "POST", `/v1/conversations/${encodeURIComponent(open)}/escalations`,
      { severity: $("severity").value, reason: $("reason").value });
    $("reason").value = "";
    showInfo("Escalated: supervisors have been alerted.");
  } catch (e) {
    showError(e.message);
  }
});

// The services directory: find an entry and share it into the chat as a card.
$("service-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const list = await authed(session, "GET", `/v1/services?q=${encodeURIComponent($("service-q").value.trim())}`);
    $("services").replaceChildren(...list.services.map((svc) => el("li", { "data-service-id": svc.id },
      el("strong", {}, svc.name),
      el("span", { class: "muted" }, [svc.category, svc.area].filter(Boolean).join(" · ")),
      el("button", { type: "button", onclick: () => share(svc.id) }, "Share"))));
    if (!list.services.length) $("services").append(el("li", { class: "muted" }, "Nothing found."));
  } catch (e) {
    showError(e.message);
  }
});

async function share(serviceId) {
  if (!open) return;
  try {
    await authed(session, "POST", `/v1/conversations/${encodeURIComponent(open)}/service-cards`,
      { service_id: serviceId, client_msg_id: clientMsgId() });
    $("services").replaceChildren();
    $("service-q").value = "";
  } catch (e) {
    showError(e.message);
  }
}

$("tags-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!open) return;
  try {
    const tags = $("tags").value.split(",").map((t) => t.trim()).filter(Boolean);
    const conv = await authed(session, "PUT", `/v1/conversations/${encodeURIComponent(open)}/tags`, { tags });
    chats.get(conv.id).conv = conv;
    renderHeader(conv);
    showInfo("Tags saved.");
  } catch (e) {
    showError(e.message);
  }
});

// Transfer to a colleague on duty; a supervisor can take a chat over by choosing themself.
$("transfer-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!open) return;
  try {
    const conv = await authed(session, "POST", `/v1/conversations/${encodeURIComponent(open)}/transfer`,
      { to: $("transfer-to").value, reason: $("transfer-reason").value.trim() });
    $("transfer-reason").value = "";
    updateConversation(conv);
    showInfo(`Passed to ${conv.assigned_to ? conv.assigned_to.display_name : "a colleague"}.`);
  } catch (e) {
    showError(e.message);
  }
});

async function loadColleagues() {
  try {
    const desk = await authed(session, "GET", "/v1/desk");
    const others = desk.on_duty.map((w) => w.user).filter((u) => u.id !== session.user.id);
    const me = session.user.role === "supervisor" ? [{ id: session.user.id, display_name: "me (take over)" }] : [];
    $("transfer-to").replaceChildren(...[...me, ...others].map((u) => el("option", { value: u.id }, u.display_name)));
  } catch (e) {
    showError(e.message);
  }
}

$("note-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!open) return;
  try {
    await authed(session, "POST", `/v1/conversations/${encodeURIComponent(open)}/notes`, { body: $("note").value });
    $("note").value = "";
    loadNotes(open);
  } catch (e) {
    showError(e.message);
  }
});

async function loadNotes(id) {
  try {
    const list = await authed(session, "GET", `/v1/conversations/${encodeURIComponent(id)}/notes`);
    if (open !== id) return;
    $("notes").replaceChildren(...list.notes.map((n) => el("li", {},
      el("span", { class: "who" }, n.author.display_name), el("span", { class: "body" }, n.body), el("span", { class: "meta" }, timeOf(n.created_at)))));
  } catch (e) {
    showError(e.message);
  }
}

async function start() {
  $("login").hidden = true;
  $("desk").hidden = false;
  $("sign-out").hidden = false;
  const desk = session.user.role !== "moderator";
  const moderates = session.user.role !== "duty_worker";
  $("duty").hidden = !desk;
  $("desk-lists").hidden = !desk;
  $("moderation").hidden = !moderates;
  $("me").textContent = `${session.user.display_name} (${session.user.role.replace("_", " ")})`;
  const supervisor = session.user.role === "supervisor";
  $("escalations-title").hidden = !supervisor;
  $("oversight").hidden = !supervisor;
  // Made before the desk loads (each chat it finds follows it), connected after.
  live = new Live(session, {
    onOpen: () => {
      if (desk) live.send({ type: "queue.watch" });
      if (moderates) {
        // The watch sends every open item again: start from an empty list.
        $("moderation-items").replaceChildren();
        countModeration();
        live.send({ type: "moderation.watch" });
      }
      for (const chat of chats.values()) chat.stream.resume();
    },
    onFrame: handle,
    onStatus: (s) => {
      $("connection").textContent = s === "connected" ? "live" : s;
      if (s === "signed-out") { session.clear(); location.reload(); }
    },
  });
  try {
    if (desk) await loadDesk(supervisor);
  } catch (e) {
    showError(e.message);
  }
  live.connect();
}

// What the desk shows before the live feed starts: outcomes, duty, own chats, escalations.
async function loadDesk(supervisor) {
  const outcomes = await authed(session, "GET", "/v1/outcomes");
  $("outcome").replaceChildren(...outcomes.outcomes.map((o) => el("option", { value: o }, o.replaceAll("_", " "))));
  const desk = await authed(session, "GET", "/v1/desk");
  setDuty(desk.on_duty.some((w) => w.user.id === session.user.id));
  const mine = await authed(session, "GET", `/v1/conversations?state=assigned&assigned_to=${encodeURIComponent(session.user.id)}`);
  for (const c of mine.conversations) updateConversation(c);
  if (supervisor) {
    for (const state of ["open", "acknowledged"]) {
      const list = await authed(session, "GET", `/v1/escalations?state=${state}`);
      for (const e of list.escalations.reverse()) renderEscalation(e);
    }
  }
}

function setDuty(on) {
  onDuty = on;
  $("duty").textContent = on ? "Go off duty" : "Go on duty";
  $("duty").classList.toggle("on", on);
}

function handle(f) {
  // A chat's messages, acks and refused sends (those of chats no longer followed are dropped).
  for (const chat of chats.values()) if (chat.stream.handle(f)) return;
  switch (f.type) {
    case "queue.snapshot":
    case "queue.changed":
      renderQueue(f.entries);
      // Every acceptance, hand-over and close changes the queue: the moment to look again.
      if (session.user.role === "supervisor") loadLiveChats();
      break;
    case "duty":
      setDuty(f.on_duty);
      break;
    case "conversation":
      updateConversation(f);
      break;
    case "typing":
      if (f.conversation_id === open) showTyping(f.user);
      break;
    case "escalation":
      renderEscalation(f);
      break;
    case "moderation.changed":
      renderModeration(f.item);
      break;
    case "notice":
      showError(f.message);
      break;
    case "error":
      showError(f.message);
      break;
  }
}

function renderQueue(entries) {
  $("queue-count").textContent = entries.length ? `(${entries.length} waiting)` : "(nobody waiting)";
  $("queue").replaceChildren(...entries.map((e) => el("li", { class: "risk-" + e.risk, "data-conversation-id": e.conversation_id },
    el("span", { class: "badge" }, e.risk),
    el("span", {}, e.topic || "No topic"),
    el("span", { class: "muted" }, " waiting since " + timeOf(e.waiting_since)),
    el("button", { type: "button", onclick: () => live.send({ type: "accept", conversation_id: e.conversation_id }) }, "Accept"))));
}

function updateConversation(conv) {
  const mine = conv.assigned_to && conv.assigned_to.id === session.user.id;
  let chat = chats.get(conv.id);
  if (!chat && mine && conv.state === "assigned") {
    chat = addChat(conv);
    if (!open) show(conv.id);
  }
  if (!chat) return;
  if (!mine && conv.state !== "closed" && session.user.role !== "supervisor") {
    // Transferred or requeued: it is someone else's now.
    chats.delete(conv.id);
    chat.stream.close();
    if (open === conv.id) {
      open = null;
      $("chat").hidden = true;
    }
    renderMine();
    return;
  }
  chat.conv = conv;
  renderMine();
  if (open === conv.id) renderHeader(conv);
}

// Supervisors see every assigned chat and can join one (the young person is told).
async function loadLiveChats() {
  try {
    const list = await authed(session, "GET", "/v1/conversations?state=assigned");
    $("live-chats").replaceChildren(...list.conversations.map((c) => el("li", { "data-conversation-id": c.id },
      c.risk ? el("span", { class: "badge risk-" + c.risk }, c.risk) : null,
      el("span", {}, (c.young_person ? c.young_person.display_name : "Young person") + (c.topic ? ` · ${c.topic}` : "")),
      el("span", { class: "muted" }, "with " + (c.assigned_to ? c.assigned_to.display_name : "nobody")),
      chats.has(c.id) ? null : el("button", { type: "button", onclick: () => join(c.id) }, "Join"))));
  } catch (e) {
    showError(e.message);
  }
}

async function join(id) {
  try {
    const conv = await authed(session, "POST", `/v1/conversations/${encodeURIComponent(id)}/join`);
    addChat(conv);
    show(conv.id);
    loadLiveChats();
  } catch (e) {
    showError(e.message);
  }
}

function addChat(conv) {
  const chat = { conv, messages: [] };
  chat.stream = new ChatStream(live, conv.id, {
    message: (m) => {
      chat.messages.push(m);
      if (open !== conv.id) {
        markUnread(conv.id);
        return false;
      }
      addMessage(m);
      return true;
    },
    // A rate-limited send goes again by itself; any other refusal is said.
    refused: (f) => {
      if (f.code !== "rate_limited") showError(f.message);
    },
  });
  chats.set(conv.id, chat);
  chat.stream.resume();
  return chat;
}

function renderMine() {
  $("mine").replaceChildren(...[...chats.values()].map(({ conv }) => el("li", { "data-conversation-id": conv.id, class: conv.state },
    el("button", { type: "button", class: "link", onclick: () => show(conv.id) },
      (conv.young_person ? conv.young_person.display_name : "Young person") + (conv.topic ? ` · ${conv.topic}` : "")),
    conv.risk ? el("span", { class: "badge risk-" + conv.risk }, conv.risk) : null,
    conv.state === "closed" ? el("span", { class: "muted" }, " closed") : null)));
}

function show(id) {
  open = id;
  const chat = chats.get(id);
  $("chat").hidden = false;
  renderHeader(chat.conv);
  $("messages").replaceChildren();
  for (const m of chat.messages) addMessage(m);
  $("messages").append(...chat.stream.unsettled());
  const item = document.querySelector(`#mine li[data-conversation-id="${CSS.escape(id)}"]`);
  if (item) item.classList.remove("unread");
  chat.stream.read();
  $("notes").replaceChildren();
  loadNotes(id);
}

function renderHeader(conv) {
  $("chat-title").textContent = conv.young_person ? conv.young_person.display_name : "Chat";
  $("chat-state").textContent = [conv.state, conv.risk && `risk ${conv.risk}`, conv.outcome && `outcome ${conv.outcome.replaceAll("_", " ")}`,
    conv.tags && conv.tags.length && `tags: ${conv.tags.join(", ")}`]
    .filter(Boolean).join(" · ");
  $("tags").value = (conv.tags || []).join(", ");
  const closed = conv.state === "closed";
  $("send-form").hidden = closed;
  $("close-form").hidden = closed;
  $("escalate-form").hidden = closed;
  $("service-form").hidden = closed;
  $("transfer-form").hidden = closed;
  if (!closed) loadColleagues();
}

function addMessage(m) {
  const staff = m.sender && m.sender.role !== "young_person";
  const flags = m.moderation && m.moderation.severity !== "none"
    ? el("span", { class: "badge risk-" + m.moderation.severity }, `${m.moderation.severity}: ${m.moderation.labels.join(", ")}`)
    : null;
  $("messages").append(el("li", { class: m.kind === "system" ? "system" : staff ? "mine" : "theirs", "data-seq": m.seq },
    el("span", { class: "who" }, m.kind === "system" ? "Talk Zone" : m.sender ? m.sender.display_name : ""),
    renderBody(m),
    flags,
    el("span", { class: "meta" }, timeOf(m.sent_at))));
  $("messages").scrollTop = $("messages").scrollHeight;
}

function markUnread(id) {
  const item = document.querySelector(`#mine li[data-conversation-id="${CSS.escape(id)}"]`);
  if (item) item.classList.add("unread");
}

function renderEscalation(e) {
  const existing = document.querySelector(`#escalations li[data-escalation-id="${CSS.escape(e.id)}"]`);
  const item = el("li", { class: "risk-" + e.severity + (e.overdue ? " overdue" : ""), "data-escalation-id": e.id },
    el("span", { class: "badge" }, e.severity),
    el("span", {}, e.reason),
    el("span", { class: "muted" }, ` ${e.state}${e.overdue ? " · OVERDUE" : ""} · raised ${timeOf(e.created_at)}`),
    e.state === "open"
      ? el("button", { type: "button", onclick: () => acknowledge(e.id) }, "Acknowledge")
      : null);
  if (existing) existing.replaceWith(item);
  else $("escalations").prepend(item);
}

// What a moderator may decide for each kind of item.
const DECISIONS = { hold: ["approve", "reject"], report: ["remove", "dismiss"] };

function renderModeration(item) {
  const existing = document.querySelector(`#moderation-items li[data-item-id="${CSS.escape(item.id)}"]`);
  const open = !item.decision || item.appeal_state === "requested";
  if (!open) {
    if (existing) existing.remove();
  } else {
    const reason = el("input", { class: "reason", maxlength: 1000, placeholder: "Reason (shown in the log)" });
    const node = el("li", { class: "risk-" + item.severity + (item.overdue ? " overdue" : ""), "data-item-id": item.id },
      el("span", { class: "badge" }, item.severity),
      el("span", {}, `${item.kind}: ${item.reason.replaceAll("_", " ")}`),
      item.subject_user ? el("span", { class: "muted" }, "from " + item.subject_user.display_name) : null,
      item.evidence ? el("p", { class: "body evidence" }, item.evidence) : null,
      reason,
      (DECISIONS[item.kind] || []).map((action) =>
        el("button", { type: "button", "data-action": action, onclick: () => decide(item.id, action, reason.value) }, action)),
      item.subject_user
        ? USER_ACTIONS.map(([action, label, duration]) => el("button", { type: "button", class: "secondary", "data-user-action": action,
          onclick: () => actOnUser(item.subject_user, action, duration, reason.value) }, label))
        : null);
    if (existing) existing.replaceWith(node);
    else $("moderation-items").append(node);
  }
  countModeration();
}

function countModeration() {
  const n = document.querySelectorAll("#moderation-items li").length;
  $("moderation-count").textContent = n ? `(${n} to review)` : "(nothing to review)";
}

// What can be done about the person behind an item (support chats stay open whatever happens).
const USER_ACTIONS = [["warn", "Warn"], ["mute", "Mute 24 h", 86400], ["suspend", "Suspend"]];

async function actOnUser(user, action, duration, reason) {
  if (!reason.trim()) return showError("Give a reason: it goes in the moderation log.");
  try {
    await authed(session, "POST", `/v1/moderation/users/${encodeURIComponent(user.id)}/actions`,
      { action, reason: reason.trim(), duration_s: duration });
    showInfo(`${user.display_name}: ${action} done.`);
  } catch (e) {
    showError(e.message);
  }
}

async function decide(id, action, reason) {
  const path = `/v1/moderation/items/${encodeURIComponent(id)}`;
  try {
    await authed(session, "POST", `${path}/claim`);
    renderModeration(await authed(session, "POST", `${path}/decision`, { action, reason: reason.trim() || `${action} (console)` }));
  } catch (e) {
    showError(e.message);
  }
}

async function acknowledge(id) {
  try {
    renderEscalation(await authed(session, "POST", `/v1/escalations/${encodeURIComponent(id)}/acknowledge`));
  } catch (e) {
    showError(e.message);
  }
}

if (session.active) start();
