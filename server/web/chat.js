// The young person's web chat: start a chat anonymously, read the monitoring notice, see the
// queue position live, talk, and get every message once and in order across reconnects.
// Messages not yet acknowledged are kept and sent again (same client_msg_id, so never twice).
import { Session, authed, call, el, timeOf, renderBody, showError, showTyping, announceTyping } from "./common.js";
import { Live, ChatStream } from "./stream.js";
import { surveyForm } from "./survey.js";

const $ = (id) => document.getElementById(id);
const session = new Session("talkzone.chat");
let conversation = null;
let live = null;
let stream = null; // the chat's messages over `live`
let acknowledged = null; // the notice version acknowledged in this tab (frames may lag behind)
const RATE_LIMITED = "You're sending messages very fast. Wait a moment; your message will be sent.";

$("quick-exit").addEventListener("click", () => {
  if (live) live.stop();
  session.clear();
  location.replace("https://www.bbc.co.uk/weather");
});

$("start-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const first = $("first").value.trim();
  try {
    if (!session.active) session.set(await call("POST", "/v1/auth/anonymous", null, {}));
    const conv = await authed(session, "POST", "/v1/conversations", first ? { first_message: first } : {});
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
  $("send-form").hidden = false;
  $("chat").hidden = true;
  $("start").hidden = false;
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
  try {
    const room = await authed(session, "POST", `/v1/rooms/${encodeURIComponent(id)}/join`, {});
    session.remember("conversation_id", room.id);
    enterChat(room);
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
    session.clear();
    // What was kept under a safeguarding hold is said plainly, in the server's words.
    $("receipt").textContent = receipt.message;
    $("delete-confirm").hidden = true;
    $("download").hidden = true;
    $("delete").hidden = true;
    $("chat").hidden = true;
    $("start").hidden = false;
  } catch (e) {
    showError(e.message);
  }
});

function enterChat(conv) {
  conversation = conv;
  $("my-data").hidden = false;
  $("start").hidden = true;
  $("chat").hidden = false;
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
  } else if (conv.state === "queued") {
    text = conv.queue_position
      ? `You're number ${conv.queue_position} in the queue.` + (conv.estimated_wait_s ? ` About ${Math.max(1, Math.round(conv.estimated_wait_s / 60))} min.` : "")
      : "Waiting for a worker…";
  } else if (conv.state === "assigned" && conv.assigned_to) {
    text = `You're talking to ${conv.assigned_to.display_name}.`;
  } else if (conv.state === "closed") {
    text = "This chat has ended. You can start a new one any time.";
    $("send-form").hidden = true;
    $("new-chat").hidden = false;
  }
  $("status").textContent = text;
}

function handle(f) {
  if (!conversation) return; // a frame from a connection already closed
  if (stream.handle(f)) return; // messages, acks, a send refused
  switch (f.type) {
    case "queue":
      if (f.conversation_id === conversation.id && conversation.state === "queued") {
        conversation.queue_position = f.position;
        conversation.estimated_wait_s = f.estimated_wait_s;
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
      showError(f.message);
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


// A reload in the same tab picks the chat up where it was.
(async () => {
  const id = session.active && session.recall("conversation_id");
  if (!id) return;
  try {
    enterChat(await authed(session, "GET", `/v1/conversations/${encodeURIComponent(id)}`));
    const mine = await authed(session, "GET", "/v1/me/surveys");
    for (const p of mine.surveys) offerSurvey(p);
  } catch (e) {
    // Signed out or the chat is gone (deleted): start afresh. Anything else may pass.
    if (e.status === 401 || e.status === 404) session.clear();
    else showError(e.message);
  }
})();
