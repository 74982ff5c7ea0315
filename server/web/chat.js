// The young person's web chat: start a chat anonymously (with a topic if they like), read the
// monitoring notice, see an honest wait live, talk, end the chat, and get every message once
// and in order across reconnects. Messages not yet acknowledged are kept and sent again (same
// client_msg_id, so never twice). Help now and the quick exit (also Esc) are always on screen.
import { Session, authed, call, el, timeOf, renderBody, showError, showInfo, showTyping, announceTyping } from "./common.js";
import { Live, ChatStream } from "./stream.js";
import { surveyForm } from "./survey.js";
import { forgetLocally, forgetOnExit, setUpKeepPanel, setUpPhraseForm, signInRemembered } from "./coming-back.js";
import { forgetPushOnExit, offerPush, setUpPush } from "./push.js";

const $ = (id) => document.getElementById(id);
const session = new Session("talkzone.chat");
let conversation = null;
let live = null;
let stream = null; // the chat's messages over `live`
let acknowledged = null; // the notice version acknowledged in this tab (frames may lag behind)
const RATE_LIMITED = "You're sending messages very fast. Wait a moment; your message will be sent.";

const EXIT_URL = "https://www.bbc.co.uk/weather";
let endedHere = false; // this page ended the chat (the status says "You ended it")
let seenUpTo = 0; // messages up to this seq were there when the chat was opened: no alert for them
let topic = null;

// Quick exit: a weather page in place of this one (`replace`: no history entry to go back to),
// the session forgotten in this tab, and a support chat ended, so that no worker accepts or
// waits in a chat with nobody there (docs/duty-desk.md, "Quick exit"). The end is sent with
// `keepalive` so it outlives the page; nothing waits for it.
function quickExit() {
  const open = conversation && conversation.kind === "support" && conversation.state !== "closed";
  const data = session.data;
  if (open && data && data.expires_at > Date.now()) {
    try {
      fetch(`/v1/conversations/${encodeURIComponent(conversation.id)}/end`, {
        method: "POST",
        keepalive: true,
        headers: { Authorization: "Bearer " + data.access_token, "Content-Type": "application/json" },
        body: JSON.stringify({ reason: "quick_exit" }),
      }).catch(() => {});
    } catch (e) { /* leaving matters more */ }
  }
  if (live) live.stop();
  forgetPushOnExit(session);
  forgetOnExit(session);
  session.clear();
  document.title = "Weather";
  document.body.replaceChildren();
  location.replace(EXIT_URL);
}
$("quick-exit").addEventListener("click", quickExit);
document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape" && !ev.isComposing) {
    ev.preventDefault();
    quickExit();
  }
});

// The safety bar is `position: fixed`, which holds to the layout viewport: with the phone's
// keyboard open or the page zoomed, only part of that is on screen (the visual viewport), so
// the bar is moved (and unzoomed) into that part.
function placeSafety() {
  const vv = window.visualViewport;
  if (!vv) return;
  const right = document.documentElement.clientWidth - (vv.offsetLeft + vv.width);
  $("safety").style.transform = `translate(${-right}px, ${vv.offsetTop}px) scale(${1 / vv.scale})`;
}
if (window.visualViewport) {
  window.visualViewport.addEventListener("resize", placeSafety);
  window.visualViewport.addEventListener("scroll", placeSafety);
}
placeSafety();

// Help now: the crisis numbers over the page, one tap away wherever the page is scrolled.
$("help-now").addEventListener("click", () => {
  const open = !$("help").classList.contains("floating");
  $("help").classList.toggle("floating", open);
  $("help-now").setAttribute("aria-expanded", String(open));
  if (open) $("help").querySelector("a").focus();
});

// The access token is kept fresh while a chat is open, so a quick exit can always end it.
setInterval(() => {
  if (session.active && conversation) session.token().catch(() => {});
}, 60000);

// Topic buttons: one at a time, or none.
for (const b of document.querySelectorAll("#topics button")) {
  b.addEventListener("click", () => {
    const on = b.getAttribute("aria-pressed") !== "true";
    for (const other of document.querySelectorAll("#topics button")) other.setAttribute("aria-pressed", "false");
    b.setAttribute("aria-pressed", String(on));
    topic = on ? b.dataset.topic : null;
  });
}

// When the tab is not being looked at and a worker joins or writes: the title says so (never
// what was written), with a short sound and a buzz unless the young person turned them off.
let unseen = 0;
let audio = null;
const TITLE = document.title;
function unlockSound() {
  try {
    audio = audio || new AudioContext();
    audio.resume();
  } catch (e) { audio = null; }
}
function alertIfAway(what) {
  if (!document.hidden) return;
  unseen += 1;
  document.title = `(${unseen}) ${what} · ${TITLE}`;
  if (!$("sound").checked) return;
  try {
    if (audio) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 660;
      gain.gain.value = 0.1;
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.2);
    }
    if (navigator.vibrate) navigator.vibrate([150, 80, 150]);
  } catch (e) { /* an alert that cannot sound still shows in the title */ }
}
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) {
    unseen = 0;
    document.title = TITLE;
  }
});

$("end-chat").addEventListener("click", () => {
  $("end-confirm").hidden = false;
  $("end-no").focus();
});
$("end-no").addEventListener("click", () => {
  $("end-confirm").hidden = true;
  $("end-chat").focus();
});
$("end-yes").addEventListener("click", async () => {
  try {
    const conv = await authed(session, "POST", `/v1/conversations/${encodeURIComponent(conversation.id)}/end`, { reason: "ended" });
    endedHere = true;
    $("end-confirm").hidden = true;
    showConversation(Object.assign({}, conversation, conv));
    $("new-chat").focus();
  } catch (e) {
    showError(e.message);
  }
});

$("rules-ok").addEventListener("click", () => {
  $("rules").hidden = true;
  $("text").focus();
});
$("show-rules").addEventListener("click", () => {
  $("rules").hidden = false;
  $("rules-ok").focus();
});

$("start-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const first = $("first").value.trim();
  unlockSound();
  try {
    if (!session.active) session.set(await call("POST", "/v1/auth/anonymous", null, {}));
    const req = {};
    if (first) req.first_message = first;
    if (topic) req.topic = topic;
    const conv = await authed(session, "POST", "/v1/conversations", req);
    session.remember("conversation_id", conv.id);
    enterChat(conv);
  } catch (e) {
    showError(e.message);
  }
});

$("send-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const body = $("text").value;
  if (!body.trim() || !conversation) return;
  $("text").value = "";
  $("messages").append(stream.send(body, "You"));
  scrollDown();
});

announceTyping("text", () => conversation && live && { live, id: conversation.id });

// A new chat keeps the same anonymous account (so its history stays theirs to see or delete).
$("new-chat").addEventListener("click", backToStart);

$("leave-room").addEventListener("click", async () => {
  try {
    await authed(session, "POST", `/v1/rooms/${encodeURIComponent(conversation.id)}/leave`);
    backToStart();
  } catch (e) {
    showError(e.message);
  }
});

function backToStart() {
  if (live) live.stop();
  if (stream) stream.close();
  live = null;
  stream = null;
  conversation = null;
  session.remember("conversation_id", null);
  $("messages").replaceChildren();
  $("feedback").replaceChildren();
  $("feedback").hidden = true;
  delete $("feedback").dataset.assignment;
  $("new-chat").hidden = true;
  $("leave-room").hidden = true;
  $("show-rules").hidden = true;
  $("rules").hidden = true;
  $("end-chat").hidden = true;
  $("end-confirm").hidden = true;
  $("error").hidden = true;
  endedHere = false;
  $("send-form").hidden = false;
  $("chat").hidden = true;
  $("keep").hidden = true;
  offerPush(session, false);
  $("start").hidden = false;
  document.body.classList.remove("in-chat");
}

// Peer rooms: listed after an anonymous sign-in; joining one opens it like a chat.
$("show-rooms").addEventListener("click", async () => {
  try {
    if (!session.active) session.set(await call("POST", "/v1/auth/anonymous", null, {}));
    const list = await authed(session, "GET", "/v1/rooms");
    $("rooms").replaceChildren(...list.rooms.map((r) => el("li", { "data-room-id": r.id },
      el("span", {}, r.topic || "Group chat"),
      el("span", { class: "muted" }, r.room ? `ages ${r.room.age_band}` : ""),
      el("button", { type: "button", onclick: () => joinRoom(r.id) }, r.room && r.room.joined ? "Open" : "Join"))));
    if (!list.rooms.length) $("rooms").append(el("li", { class: "muted" }, "There are no group chats open right now."));
  } catch (e) {
    showError(e.message);
  }
});

async function joinRoom(id) {
  unlockSound();
  try {
    const room = await authed(session, "POST", `/v1/rooms/${encodeURIComponent(id)}/join`, {});
    session.remember("conversation_id", room.id);
    enterChat(room);
    showRules(room);
  } catch (e) {
    showError(e.message);
  }
}

$("notice-ok").addEventListener("click", async () => {
  const version = Number($("notice").dataset.version);
  try {
    const notice = await authed(session, "POST", "/v1/me/monitoring-notice/acknowledge", { version });
    acknowledged = notice.version;
    if (conversation) conversation.monitoring_notice = notice;
    $("notice").hidden = true;
  } catch (e) {
    showError(e.message);
  }
});

// The right of access: the export as a file, made in the page (no address holds the data).
$("download").addEventListener("click", async () => {
  try {
    const data = await authed(session, "GET", "/v1/me/export");
    const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
    const link = el("a", { href: URL.createObjectURL(blob), download: "talkzone-my-data.json" });
    document.body.append(link);
    link.click();
    link.remove();
    $("receipt").textContent = "Your data has been downloaded.";
  } catch (e) {
    showError(e.message);
  }
});

$("delete").addEventListener("click", () => { $("delete-confirm").hidden = false; });
$("delete-no").addEventListener("click", () => { $("delete-confirm").hidden = true; });
$("delete-yes").addEventListener("click", async () => {
  try {
    const receipt = await authed(session, "DELETE", "/v1/me");
    if (live) live.stop();
    live = null;
    forgetPushOnExit(session);
    session.clear();
    forgetLocally();
    // What was kept under a safeguarding hold is said plainly, in the server's words.
    $("receipt").textContent = receipt.message;
    $("delete-confirm").hidden = true;
    $("download").hidden = true;
    $("delete").hidden = true;
    $("chat").hidden = true;
    $("keep").hidden = true;
    offerPush(session, false);
    $("start").hidden = false;
    document.body.classList.remove("in-chat");
  } catch (e) {
    showError(e.message);
  }
});

// A room's house rules (the server words them from the room's settings): shown on joining,
// and again with "Group rules".
function showRules(room) {
  const rules = (room.room && room.room.house_rules) || [];
  $("rules-list").replaceChildren(...rules.map((r) => el("li", {}, r)));
  $("rules").hidden = !rules.length;
  $("show-rules").hidden = !rules.length;
  if (rules.length) $("rules-ok").focus();
}

function enterChat(conv) {
  conversation = conv;
  seenUpTo = conv.last_seq || 0;
  document.body.classList.add("in-chat");
  $("my-data").hidden = false;
  $("start").hidden = true;
  $("chat").hidden = false;
  $("keep").hidden = conv.kind !== "support";
  showConversation(conv);
  live = new Live(session, {
    onOpen: () => stream.resume(),
    onFrame: handle,
    onStatus: (s) => {
      $("status").dataset.connection = s;
      if (s === "signed-out") {
        session.clear();
        showError("Your chat session has ended. Reload the page to start again.");
      } else if (s === "reconnecting") {
        $("status").textContent = "Reconnecting… your messages are kept and will be sent.";
      } else if (s === "connecting") {
        $("status").textContent = "Connecting…";
      } else {
        showConversation(conversation);
      }
    },
  });
  stream = new ChatStream(live, conv.id, {
    message: (m, sentHere) => {
      addMessage(m, sentHere);
      return true;
    },
    refused: (f) => {
      if (f.code === "rate_limited") showError(RATE_LIMITED);
    },
  });
  live.connect();
}

function showConversation(conv) {
  conversation = conv;
  const n = conv.monitoring_notice;
  if (n && !n.acknowledged && n.version !== acknowledged) {
    $("notice-text").textContent = n.text;
    $("notice").dataset.version = n.version;
    $("notice").hidden = false;
  }
  let text = "";
  if (conv.kind === "room") {
    text = `Group chat: ${conv.topic || ""}. ` + (conv.room && conv.room.moderation === "pre"
      ? "A moderator checks every message before others see it."
      : "Moderators check messages that might break the rules.");
    $("leave-room").hidden = false;
    $("show-rules").hidden = !(conv.room && conv.room.house_rules && conv.room.house_rules.length);
  } else if (conv.state === "queued") {
    text = waitText(conv);
  } else if (conv.state === "assigned" && conv.assigned_to) {
    text = `You're talking to ${conv.assigned_to.display_name}.`;
  } else if (conv.state === "closed") {
    text = endedHere ? "You ended this chat. You can start a new one any time, day or night."
      : "This chat has ended. You can start a new one any time, day or night.";
    $("send-form").hidden = true;
    $("end-confirm").hidden = true;
    $("new-chat").hidden = false;
  }
  $("end-chat").hidden = conv.kind !== "support" || conv.state === "closed";
  $("keep-open").hidden = conv.kind !== "support";
  // Alerts are for a worker joining or writing: support chats that are still open.
  $("sound").parentElement.hidden = conv.kind !== "support" || conv.state === "closed";
  offerPush(session, conv.kind === "support" && conv.state !== "closed");
  $("status").textContent = text;
}

// The wait as it is: a time only when someone is on duty to answer; otherwise who is not
// there, until when (the rota's next shift, in the young person's own time), and what to do.
function waitText(conv) {
  const place = conv.queue_position ? `You're number ${conv.queue_position} in the queue.` : "You're in the queue.";
  const about = (s) => {
    const min = Math.max(1, Math.round(s / 60));
    return min < 90 ? `about ${min} minute${min === 1 ? "" : "s"}` : `about ${Math.round(min / 60)} hours`;
  };
  switch (conv.staffing) {
    case "nobody_on_duty": {
      const next = conv.next_on_duty_at ? new Date(conv.next_on_duty_at) : null;
      const until = next && !isNaN(next) ? ` until ${whenOf(next)} (${fromNow(next)})` : " right now";
      return `Nobody is on duty${until}. You can leave a message here and a worker will read it when they start. If you need help now, tap Help now.`;
    }
    case "busy":
      return `${place} Our workers are all talking to other young people; ${conv.estimated_wait_s ? about(conv.estimated_wait_s) : "a few minutes"}. You can write your message now.`;
    case "available":
      return conv.estimated_wait_s ? `${place} A worker should be with you in ${about(conv.estimated_wait_s)}.` : `${place} A worker will be with you soon.`;
    default:
      return conv.queue_position ? place : "Waiting for a worker…";
  }
}

// "18:00", "tomorrow at 18:00" or "Friday at 18:00", in the young person's own time.
function whenOf(date) {
  const hm = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((day(date) - day(new Date())) / 86400000);
  if (days <= 0) return hm;
  if (days === 1) return `tomorrow at ${hm}`;
  return `${date.toLocaleDateString([], { weekday: "long" })} at ${hm}`;
}

function fromNow(date) {
  const min = Math.max(1, Math.round((date - Date.now()) / 60000));
  if (min < 60) return `in ${min} minute${min === 1 ? "" : "s"}`;
  const hours = Math.round(min / 60);
  if (hours < 48) return `in ${hours} hour${hours === 1 ? "" : "s"}`;
  return `in ${Math.round(hours / 24)} days`;
}

function handle(f) {
  if (!conversation) return; // a frame from a connection already closed
  if (stream.handle(f)) return; // messages, acks, a send refused
  switch (f.type) {
    case "queue":
      if (f.conversation_id === conversation.id && conversation.state === "queued") {
        conversation.queue_position = f.position;
        conversation.estimated_wait_s = f.estimated_wait_s;
        conversation.staffing = f.staffing;
        conversation.next_on_duty_at = f.next_on_duty_at;
        showConversation(conversation);
      }
      break;
    case "conversation":
      if (f.id === conversation.id) showConversation(Object.assign({}, conversation, f));
      break;
    case "monitoring_notice":
      if (f.conversation_id === conversation.id && f.version !== acknowledged) {
        $("notice-text").textContent = f.text;
        $("notice").dataset.version = f.version;
        $("notice").hidden = false;
      }
      break;
    case "typing":
      if (f.conversation_id === conversation.id) showTyping(f.user);
      break;
    case "notice":
      if (f.kind === "message_rejected") {
        // The held message's line says it was not shared, rather than waiting for ever.
        const line = f.client_msg_id && document.querySelector(`#messages li[data-client-msg-id="${CSS.escape(f.client_msg_id)}"]`);
        if (line) {
          line.classList.add("rejected");
          line.querySelector(".meta").textContent = "not shared: a moderator held it back";
        }
        showInfo(f.message);
      } else {
        showError(f.message);
      }
      break;
    case "survey":
      offerSurvey(f);
      break;
    case "message.changed": {
      // A moderator removed (or restored) a message: show what everyone now sees.
      const node = document.querySelector(`#messages li[data-seq="${f.seq}"] .body`);
      if (f.conversation_id === conversation.id && node) node.textContent = f.body;
      break;
    }
    case "error":
      showError(f.code === "rate_limited" ? RATE_LIMITED : f.message);
      break;
  }
}

// A feedback survey about this chat (offered when it closes), shown under it.
function offerSurvey(offer) {
  if (offer.conversation_id !== conversation.id || offer.status === "completed") return;
  if ($("feedback").dataset.assignment === offer.assignment_id) return;
  $("feedback").dataset.assignment = offer.assignment_id;
  const path = `/v1/me/surveys/${encodeURIComponent(offer.assignment_id)}/responses`;
  $("feedback").replaceChildren(surveyForm(offer, (req) => authed(session, "POST", path, req)));
  $("feedback").hidden = false;
}

// `sentHere`: our own message, sent from this tab, whose "sending…" line it replaces.
function addMessage(m, sentHere) {
  // In rooms others are shown by a pseudonymous id, so one's own earlier messages are known by name.
  const room = conversation.kind === "room";
  const mine = sentHere || (m.sender && (m.sender.id === session.user.id
    || (room && m.sender.role === "young_person" && m.sender.display_name === session.user.display_name)));
  const who = m.kind === "system" ? "Talk Zone" : mine ? "You" : (m.sender ? m.sender.display_name : "");
  if (!mine && m.seq > seenUpTo && !room) {
    alertIfAway(m.kind === "system" ? (/has joined/.test(m.body) ? "A worker has joined" : "Chat update") : "New message");
  }
  $("messages").append(el("li", { class: m.kind === "system" ? "system" : mine ? "mine" : "theirs", "data-seq": m.seq },
    el("span", { class: "who" }, who),
    renderBody(m),
    el("span", { class: "meta" }, sentHere ? "sent " + timeOf(m.sent_at) : timeOf(m.sent_at)),
    room && !mine && m.kind !== "system" ? reportButton(m) : null));
  scrollDown();
}

// Reporting a message in a room: a reason, then it goes to the moderators.
function reportButton(m) {
  const box = el("span", { class: "report", hidden: true });
  const reason = el("input", { maxlength: 1000, placeholder: "What's wrong with it?" });
  box.append(reason, el("button", { type: "button", onclick: async () => {
    try {
      await authed(session, "POST", "/v1/reports", { message_id: m.message_id, reason: reason.value.trim() || "reported from the web chat" });
      box.replaceChildren("Thanks, a moderator will look at it.");
    } catch (e) {
      showError(e.message);
    }
  } }, "Send report"));
  return el("span", {}, el("button", { type: "button", class: "link", onclick: () => { box.hidden = false; } }, "Report"), box);
}

function scrollDown() {
  const list = $("messages");
  list.scrollTop = list.scrollHeight;
}


setUpKeepPanel(session, showError);
setUpPush(session);
setUpPhraseForm(session, openLatest, showError);

// Signed back in (a remembered device, secret words): the newest support chat still open, or
// else the newest one, with what was written while they were away.
async function openLatest() {
  const list = await authed(session, "GET", "/v1/conversations");
  const support = list.conversations.filter((c) => c.kind === "support");
  const conv = support.find((c) => c.state !== "closed") || support[0];
  if (!conv) return;
  session.remember("conversation_id", conv.id);
  await openChat(conv.id);
}

async function openChat(id) {
  enterChat(await authed(session, "GET", `/v1/conversations/${encodeURIComponent(id)}`));
  const mine = await authed(session, "GET", "/v1/me/surveys");
  for (const p of mine.surveys) offerSurvey(p);
}

// A reload in the same tab picks the chat up where it was; a new tab on a device that
// remembers the young person signs them back in.
(async () => {
  if (!session.active) {
    try {
      if (await signInRemembered(session)) await openLatest();
    } catch (e) {
      showError(e.message);
    }
    return;
  }
  const id = session.recall("conversation_id");
  if (!id) return;
  try {
    await openChat(id);
  } catch (e) {
    // Signed out or the chat is gone (deleted): start afresh. Anything else may pass.
    if (e.status === 401 || e.status === 404) session.clear();
    else showError(e.message);
  }
})();
