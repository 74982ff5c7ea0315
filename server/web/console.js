// The staff console: sign in, go on duty, watch the queue live (highest risk first, no
// refresh), accept chats, talk, escalate, note, close with an outcome; supervisors also work
// escalations as a worklist and see every live chat; moderators and supervisors work the
// moderation queue. A new chat or escalation cannot be missed (console-alerts.js). Every
// user-written string is shown as text, never as markup.
//
// The parts: console-chat.js (the chats followed and the one on screen), console-escalations.js,
// console-moderation.js, console-alerts.js (sound, title, notifications, announcements) and
// console-ui.js (messages beside actions, risk badges, times).
import { Session, authed, el } from "./common.js";
import { addPasskeyButton } from "./passkeys.js";
import { staffSignIn } from "./signin.js";
import { Live } from "./stream.js";
import { Alerts } from "./console-alerts.js";
import { ChatPane } from "./console-chat.js";
import { Escalations } from "./console-escalations.js";
import { ModerationList } from "./console-moderation.js";
import { say, unsay, riskBadge, riskWords, waited, RISK_RANK, personName } from "./console-ui.js";

const $ = (id) => document.getElementById(id);
const STAFF = ["duty_worker", "supervisor", "moderator"];
const session = new Session("talkzone.console");
let live = null;
let onDuty = false;
let queue = []; // the entries, first to be seen first
const known = new Map(); // conversation id -> risk, of the queue as last seen
let queueSeen = false; // alerts only for what arrives after the first snapshot
let alerts = null;
let chat = null;
let escalations = null;
let moderation = null;
let openEscalations = { open: 0, overdue: 0 };

staffSignIn(session, STAFF, "This console is for duty workers, supervisors and moderators.", () => start(), () => live && live.stop());

$("duty").addEventListener("click", () => {
  live.send({ type: "duty", on_duty: !onDuty });
});

async function start() {
  $("login").hidden = true;
  $("desk").hidden = false;
  $("sign-out").hidden = false;
  $("console-tools").hidden = false;
  addPasskeyButton(session);
  const role = session.user.role;
  const desk = role !== "moderator";
  const moderates = role !== "duty_worker";
  const supervisor = role === "supervisor";
  $("duty").hidden = !desk;
  $("desk-lists").hidden = !desk;
  $("moderation").hidden = !moderates;
  $("escalations-section").hidden = !supervisor;
  $("oversight").hidden = !supervisor;
  $("me").textContent = `${session.user.display_name} (${role.replace("_", " ")})`;
  alerts = new Alerts();
  const context = {
    session,
    alerts,
    supervisor,
    live: () => live,
    openChat: (id) => openChat(id),
    onJoined: () => loadLiveChats(),
    onCount: (open, overdue) => { openEscalations = { open, overdue }; renderBanner(); },
  };
  chat = new ChatPane(context);
  chat.renderMine();
  escalations = new Escalations(context);
  moderation = new ModerationList(context);
  // Made before the desk loads (each chat it finds follows it), connected after.
  live = new Live(session, {
    onOpen: () => {
      if (desk) live.send({ type: "queue.watch" });
      if (moderates) {
        moderation.reset();
        live.send({ type: "moderation.watch" });
      }
      chat.resumeAll();
    },
    onFrame: handle,
    onStatus: (s) => {
      $("connection").textContent = s === "connected" ? "live" : s;
      $("connection").classList.toggle("offline", s !== "connected");
      if (s === "signed-out") { session.clear(); location.reload(); }
    },
  });
  try {
    if (desk) await loadDesk(supervisor);
  } catch (e) {
    say($("desk-lists"), e.message);
  }
  live.connect();
  setInterval(tickQueue, 15000);
}

// What the desk shows before the live feed starts: outcomes, duty, own chats, saved replies,
// escalations.
async function loadDesk(supervisor) {
  const outcomes = await authed(session, "GET", "/v1/outcomes");
  $("outcome").replaceChildren(el("option", { value: "" }, "Choose how it ended…"),
    ...outcomes.outcomes.map((o) => el("option", { value: o }, o.replaceAll("_", " "))));
  const desk = await authed(session, "GET", "/v1/desk");
  setDuty(desk.on_duty.some((w) => w.user.id === session.user.id));
  const mine = await authed(session, "GET", `/v1/conversations?state=assigned&assigned_to=${encodeURIComponent(session.user.id)}`);
  for (const c of mine.conversations) chat.update(c, true);
  await chat.loadCanned();
  if (supervisor) {
    await escalations.load();
    loadLiveChats();
  }
}

function setDuty(on) {
  onDuty = on;
  $("duty").textContent = on ? "Go off duty" : "Go on duty";
  $("duty").classList.toggle("on", on);
  $("duty").setAttribute("aria-pressed", String(on));
}

function handle(f) {
  // A chat's messages, acks and refused sends (those of chats no longer followed are dropped).
  if (chat.handle(f)) return;
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
      // Not one followed here: a supervisor's list of live chats shows its new state.
      if (!chat.update(f) && session.user.role === "supervisor") loadLiveChats();
      break;
    case "typing":
      chat.typing(f);
      break;
    case "escalation":
      escalations.render(f);
      break;
    case "moderation.changed":
      moderation.render(f.item);
      break;
    case "notice":
      say($("header-notes"), f.message, "info");
      alerts.announce(f.message, true);
      break;
    case "error":
      say($("header-notes"), f.message);
      break;
  }
}

// --- the queue -------------------------------------------------------------------------------

function renderQueue(entries) {
  // What is new (or newly serious) since last time raises the alarm, once.
  if (queueSeen && onDuty) {
    const fresh = entries.filter((e) => !known.has(e.conversation_id));
    const rose = entries.filter((e) => known.has(e.conversation_id)
      && RISK_RANK[e.risk] > RISK_RANK[known.get(e.conversation_id)] && RISK_RANK[e.risk] >= RISK_RANK.high);
    const worst = (list) => list.reduce((w, e) => (RISK_RANK[e.risk] > RISK_RANK[w] ? e.risk : w), "none");
    if (fresh.length) alerts.newChat(worst(fresh), false);
    else if (rose.length) alerts.newChat(worst(rose), true);
  }
  queueSeen = true;
  known.clear();
  for (const e of entries) known.set(e.conversation_id, e.risk);
  queue = entries;
  $("queue-count").textContent = entries.length ? `(${entries.length} waiting)` : "(nobody waiting)";
  $("queue").replaceChildren(...entries.map((e) => el("li", { class: "console-queue risk-" + e.risk, "data-conversation-id": e.conversation_id },
    el("div", { class: "line" },
      riskBadge(e.risk),
      el("strong", {}, e.topic || "No topic"),
      el("span", { class: "console-waited", "data-since": e.waiting_since }, `waiting ${waited(e.waiting_since)}`)),
    e.preview ? el("p", { class: "preview" }, `“${e.preview}”`) : el("p", { class: "preview muted" }, "No message yet."),
    el("button", { type: "button", "data-do": "accept", "aria-label": `Accept chat: ${riskWords(e.risk)}, waiting ${waited(e.waiting_since)}`,
      onclick: (ev) => accept(e.conversation_id, ev.target) }, "Accept"))));
  alerts.set("waiting", entries.length);
  renderBanner();
}

function tickQueue() {
  for (const span of document.querySelectorAll("#queue .console-waited")) span.textContent = `waiting ${waited(span.dataset.since)}`;
  renderBanner();
}

// Accept takes the worker straight to the chat, whatever was on screen before.
async function accept(id, anchor) {
  chat.accepting.add(id);
  try {
    const conv = await authed(session, "POST", `/v1/conversations/${encodeURIComponent(id)}/accept`);
    chat.update(conv);
    chat.show(conv.id);
    unsay($("queue"));
    $("chat").scrollIntoView({ block: "start" });
    $("text").focus();
    alerts.announce(`Chat with ${personName(conv.young_person)} open. Reply to start the conversation.`);
  } catch (e) {
    const why = e.code === "already_assigned" ? "Someone else has just taken that chat." : e.message;
    say(anchor && anchor.isConnected ? anchor.closest("li") : $("queue"), why);
  } finally {
    chat.accepting.delete(id);
  }
}

function acceptNext() {
  if (!queue.length) return say($("queue"), "Nobody is waiting.", "info");
  accept(queue[0].conversation_id, document.querySelector("#queue li button"));
}

// The banner at the top of the screen, however far down the worker has scrolled.
function renderBanner() {
  const banner = $("alert-banner");
  const waiting = queue.length;
  const { open, overdue } = openEscalations;
  banner.hidden = !waiting && !open;
  if (banner.hidden) return;
  const worst = queue.reduce((w, e) => (RISK_RANK[e.risk] > RISK_RANK[w] ? e.risk : w), "none");
  banner.className = "console-banner " + (overdue || worst === "critical" ? "critical" : worst === "high" || open ? "high" : "");
  const parts = [];
  if (waiting) {
    const longest = queue.reduce((o, e) => (e.waiting_since < o ? e.waiting_since : o), queue[0].waiting_since);
    parts.push(el("span", {}, `${waiting} chat${waiting === 1 ? "" : "s"} waiting`,
      el("span", { class: "detail" }, ` · longest ${waited(longest)} · ${worst === "none" ? "no risk flagged" : `highest: ${riskWords(worst)}`}`)));
    parts.push(el("button", { type: "button", "data-do": "accept-next", onclick: acceptNext }, "Accept next", el("span", { class: "detail" }, " (Alt+A)")));
  }
  if (open) {
    parts.push(el("span", {}, `${open} escalation${open === 1 ? "" : "s"}`, el("span", { class: "detail" }, " to acknowledge"), overdue ? ` · ${overdue} OVERDUE` : ""));
    parts.push(el("button", { type: "button", "data-do": "show-escalations", onclick: () => { $("escalations-section").scrollIntoView(); $("escalations-title").focus(); } }, "Show"));
  }
  $("banner-body").replaceChildren(...parts);
}

// --- supervisors: every live chat ------------------------------------------------------------

let liveChatsTimer = null;
function loadLiveChats() {
  // Many changes come at once (an accept is a queue change and a conversation): look once.
  clearTimeout(liveChatsTimer);
  liveChatsTimer = setTimeout(refreshLiveChats, 150);
}

async function refreshLiveChats() {
  try {
    const list = await authed(session, "GET", "/v1/conversations?state=assigned");
    $("live-chats").replaceChildren(...list.conversations.map((c) => el("li", { "data-conversation-id": c.id },
      riskBadge(c.risk),
      el("span", {}, personName(c.young_person) + (c.topic ? ` · ${c.topic}` : "")),
      el("span", { class: "muted" }, "with " + (c.assigned_to ? c.assigned_to.display_name : "nobody")),
      el("button", { type: "button", class: "secondary", "data-do": "open", onclick: (ev) => openChat(c.id).catch((e) => say(ev.target.closest("li"), e.message)) }, "Open"),
      el("button", { type: "button", "data-do": "join", onclick: () => chat.join(c.id) }, "Join"))));
    if (!list.conversations.length) $("live-chats").append(el("li", { class: "muted" }, "No live chats."));
  } catch (e) {
    say($("live-chats"), e.message);
  }
}

async function openChat(id) {
  await chat.openById(id);
  $("chat").scrollIntoView({ block: "start" });
  $("messages").focus();
}

// --- keyboard shortcuts (listed in the page, under "Keyboard shortcuts") ----------------------

const SHORTCUTS = {
  KeyA: () => acceptNext(),
  KeyN: () => chat.next(),
  KeyR: () => !$("send-form").hidden && $("text").focus(),
  KeyS: () => !$("canned-row").hidden && $("canned").focus(),
  KeyQ: () => { $("queue-title").scrollIntoView(); $("queue-title").focus(); },
  KeyE: () => { if (!$("escalations-section").hidden) { $("escalations-section").scrollIntoView(); $("escalations-title").focus(); } },
};

document.addEventListener("keydown", (ev) => {
  if (!ev.altKey || ev.ctrlKey || ev.metaKey || !session.active || $("desk").hidden) return;
  // `code`, not `key`: on a Mac, Alt+A types "å".
  const run = SHORTCUTS[ev.code];
  if (run) {
    ev.preventDefault();
    run();
  }
});

if (session.active) start();
