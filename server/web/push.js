// "Tell me when someone replies" in the web chat (docs/protocol.md, "The web chat's
// notifications"): the young person's choice, never asked for before they press the button.
// The service worker (/service-worker.js) shows every push as the same neutral words. The
// subscription's id (to turn it off) is kept with the tab's session, like the chat's id.
import { authed, call } from "./common.js";

const $ = (id) => document.getElementById(id);
const ID = "push_subscription_id";

let key = null; // the server's VAPID key when it has Web Push on
let registration = null; // the service worker's registration, once registered
let wanted = false; // a support chat is open: offer the button (once the checks are done)

const supported = () => "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

// Registers the service worker (which also makes the page installable) and asks whether the
// server sends Web Push; the button shows only when both hold. Nothing here asks the browser
// for permission.
export async function setUpPush(session) {
  $("push-on").addEventListener("click", () => turnOn(session));
  $("push-stop").addEventListener("click", () => turnOff(session));
  // From beside "End chat": the offer below the chat, in view, its button focused.
  $("push-open").addEventListener("click", () => {
    $("push").scrollIntoView({ block: "start" });
    ($("push-off").hidden ? $("push-stop") : $("push-on")).focus();
  });
  try {
    if (!supported()) return;
    try {
      registration = await navigator.serviceWorker.register("/service-worker.js", { scope: "/" });
    } catch (e) {
      return; // no worker, no notifications: the chat itself is unaffected
    }
    try {
      key = (await call("GET", "/v1/push/web-push-key")).public_key;
    } catch (e) {
      key = null; // 503: this server has Web Push off
    }
    // The worker says the browser's push service replaced the subscription
    // (`pushsubscriptionchange`): the new one is registered from here, as the worker has no token.
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === "push-changed") keepOn(session);
    });
    offerPush(session, wanted);
    // Back in a tab where they were on: the browser's subscription may have changed meanwhile.
    if (key && session.recall && session.recall(ID)) keepOn(session);
  } finally {
    $("push").dataset.checked = "true"; // for the tests: the answer is in
  }
}

// Offered in a support chat only (replies and a worker joining are what notify).
export function offerPush(session, yes) {
  wanted = yes;
  $("push").hidden = !(yes && key && registration);
  $("push-open").hidden = $("push").hidden;
  if (!$("push").hidden) show(session);
}

async function current() {
  return registration ? registration.pushManager.getSubscription() : null;
}

// "On" when this tab's account registered the browser's current subscription.
async function show(session, message) {
  const on = Boolean(session.recall && session.recall(ID)) && Boolean(await current().catch(() => null));
  $("push-off").hidden = on;
  $("push-is-on").hidden = !on;
  $("push-state").textContent = message || "";
  $("push-state").className = message ? "error" : "";
}

async function turnOn(session) {
  $("push-state").textContent = "";
  let permission = Notification.permission;
  if (permission !== "granted") permission = await Notification.requestPermission();
  if (permission === "denied") {
    return show(session, "You turned notifications off for this site: to get them, allow notifications for this site in your browser's settings, then press the button again.");
  }
  if (permission !== "granted") {
    return show(session, "Notifications weren't allowed. Press the button again if you'd like them.");
  }
  let sub;
  try {
    sub = await subscribe();
  } catch (e) {
    if (e && e.name === "NotAllowedError") {
      return show(session, "You turned notifications off for this site: to get them, allow notifications for this site in your browser's settings, then press the button again.");
    }
    return show(session, "Your browser couldn't set up notifications just now (it may be offline, or not allow them here). Your chat still works: keep this page open to see replies.");
  }
  const json = sub.toJSON();
  try {
    const made = await authed(session, "POST", "/v1/me/push-subscriptions", {
      kind: "web_push",
      endpoint: json.endpoint,
      keys: { p256dh: json.keys.p256dh, auth: json.keys.auth },
      device_label: "Web browser",
    });
    session.remember(ID, made.id);
    await show(session);
    $("push-stop").focus();
  } catch (e) {
    // Not registered: the browser's side goes too, so nothing is left half on.
    await sub.unsubscribe().catch(() => {});
    await show(session, `Notifications couldn't be turned on: ${refusal(e)}`);
  }
}

// How long the browser's push service gets to answer. Chromium without its push service (offline,
// or where Google's is blocked) keeps trying for minutes, with no answer: the young person is
// told instead of waiting for ever.
const SUBSCRIBE_WITHIN_MS = 10000;

// The browser's subscription for this server's key (one made for another key is replaced).
async function subscribe() {
  const options = { userVisibleOnly: true, applicationServerKey: fromBase64Url(key) };
  const once = () => {
    const asked = registration.pushManager.subscribe(options);
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => {
        // A subscription that comes after the young person was told it failed is dropped:
        // nothing is left half on.
        asked.then((sub) => sub.unsubscribe()).catch(() => {});
        reject(new DOMException("the push service did not answer", "AbortError"));
      }, SUBSCRIBE_WITHIN_MS);
    });
    return Promise.race([asked, late]).finally(() => clearTimeout(timer));
  };
  try {
    return await once();
  } catch (e) {
    if (e && e.name === "InvalidStateError") {
      const old = await current();
      if (old) await old.unsubscribe();
      return once();
    }
    throw e;
  }
}

// Notifications were turned on in this tab: the browser's current subscription is registered
// with the server (the same endpoint again answers with the same id), and one it replaced is
// deleted, so that replies keep reaching the device after its push service renews or expires
// the subscription. Without one, and with permission still granted, it subscribes again (the
// young person's choice stands); otherwise notifications show as off.
let keeping = null;
function keepOn(session) {
  keeping = keeping || reRegister(session).finally(() => { keeping = null; });
  return keeping;
}

async function reRegister(session) {
  const old = session.recall(ID);
  if (!old || !key || !registration) return;
  try {
    let sub = await current();
    if (!sub && Notification.permission === "granted") sub = await subscribe();
    if (!sub) {
      session.remember(ID, null);
      await authed(session, "DELETE", `/v1/me/push-subscriptions/${encodeURIComponent(old)}`).catch(() => {});
      return show(session, "Notifications stopped: your browser no longer allows them for this site. Press the button to turn them on again.");
    }
    const json = sub.toJSON();
    const made = await authed(session, "POST", "/v1/me/push-subscriptions", {
      kind: "web_push",
      endpoint: json.endpoint,
      keys: { p256dh: json.keys.p256dh, auth: json.keys.auth },
      device_label: "Web browser",
    });
    if (made.id !== old) {
      session.remember(ID, made.id);
      await authed(session, "DELETE", `/v1/me/push-subscriptions/${encodeURIComponent(old)}`).catch(() => {});
    }
    if (!$("push").hidden) await show(session);
  } catch (e) {
    if (!$("push").hidden) await show(session, "Notifications may have stopped: your browser changed how it sends them and we couldn't update it. Press \"Stop notifications\", then turn them on again.");
  }
}

async function turnOff(session) {
  const id = session.recall(ID);
  try {
    const sub = await current();
    if (sub) await sub.unsubscribe();
    session.remember(ID, null);
    if (id) await authed(session, "DELETE", `/v1/me/push-subscriptions/${encodeURIComponent(id)}`);
    await show(session);
    $("push-on").focus();
  } catch (e) {
    // Already gone on the server (404) is what was asked for.
    await show(session, e.status === 404 ? undefined : `Couldn't turn notifications off: ${e.message}`);
  }
}

// The quick exit and a deleted account: the device stops getting notifications. The worker
// unsubscribes (it outlives the page), and the server is told with `keepalive`.
export function forgetPushOnExit(session) {
  if (!supported()) return;
  try {
    if (navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage({ type: "forget-push" });
    else if (registration && registration.active) registration.active.postMessage({ type: "forget-push" });
    const id = session.recall(ID);
    const data = session.data;
    if (id && data && data.expires_at > Date.now()) {
      fetch(`/v1/me/push-subscriptions/${encodeURIComponent(id)}`, {
        method: "DELETE",
        keepalive: true,
        headers: { Authorization: "Bearer " + data.access_token },
      }).catch(() => {});
    }
  } catch (e) { /* leaving matters more */ }
}

// The server's refusal in words for the young person (its own message is for developers).
function refusal(e) {
  if (e.status === 422) return "this browser's notification service isn't one we can use. Your chat still works: keep this page open to see replies.";
  if (e.status === 409) return "they're already on for as many devices as we allow. Stop them on one you don't use (in its chat page), then try again.";
  return e.message;
}

function fromBase64Url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}
