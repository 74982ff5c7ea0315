// Coming back to an anonymous chat (docs/privacy.md, "Coming back"). Two ways, both chosen by
// the young person, neither asking for anything about them:
// - "remember me on this device": a device credential kept in localStorage (it outlives the
//   tab), offered only with a plain warning about shared and checked devices, and forgotten
//   with one button or by the quick exit;
// - ten secret words to write down, shown once, typed in on any device.
import { call, authed } from "./common.js";

const $ = (id) => document.getElementById(id);
const KEY = "talkzone.device";

function stored() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || "null");
  } catch (e) {
    return null;
  }
}

// Whether this device remembers someone (the panel shows which choice is in force).
export function remembered() {
  return stored() !== null;
}

// Signs in with the remembered credential: true when it worked. A credential the server no
// longer knows (forgotten elsewhere, unused too long, the account deleted) is dropped here too.
export async function signInRemembered(session) {
  const device = stored();
  if (!device) return false;
  try {
    session.set(await call("POST", "/v1/auth/device", null, { credential: device.credential }));
    return true;
  } catch (e) {
    if (e.status === 401) {
      localStorage.removeItem(KEY);
      $("remembered-note").textContent = "This device doesn't remember you any more. If you wrote down your secret words, type them below.";
      $("remembered-note").hidden = false;
      $("come-back").open = true;
    }
    return false;
  }
}

// The account is gone (deleted): nothing to remember.
export function forgetLocally() {
  localStorage.removeItem(KEY);
}

// The quick exit: nothing here may open the chat afterwards. The credential is dropped at once
// and the server told to forget it (`keepalive`: the request outlives the page).
export function forgetOnExit(session) {
  const device = stored();
  localStorage.removeItem(KEY);
  const data = session.data;
  if (!device || !data || data.expires_at <= Date.now()) return;
  try {
    fetch(`/v1/me/device-credentials/${encodeURIComponent(device.id)}`, {
      method: "DELETE",
      keepalive: true,
      headers: { Authorization: "Bearer " + data.access_token },
    }).catch(() => {});
  } catch (e) { /* leaving matters more */ }
}

// The panel under a support chat; `onError` shows a failure in the page's own way.
export function setUpKeepPanel(session, onError) {
  const show = () => {
    const on = remembered();
    $("keep-choice").hidden = on;
    $("keep-on").hidden = !on;
  };
  show();
  // From beside "End chat": the panel below the chat, opened and in view.
  $("keep-open").addEventListener("click", () => {
    $("keep").open = true;
    $("keep").scrollIntoView({ block: "start" });
    $("keep").querySelector("summary").focus();
  });
  $("keep-yes").addEventListener("click", async () => {
    try {
      const made = await authed(session, "POST", "/v1/me/device-credentials");
      localStorage.setItem(KEY, JSON.stringify({ id: made.id, credential: made.credential }));
      show();
      $("keep-forget").focus();
    } catch (e) {
      onError(e.message);
    }
  });
  $("keep-forget").addEventListener("click", async () => {
    const device = stored();
    localStorage.removeItem(KEY);
    show();
    if (!device) return;
    try {
      await authed(session, "DELETE", `/v1/me/device-credentials/${encodeURIComponent(device.id)}`);
    } catch (e) {
      // Already forgotten on the server (404) is what was asked for.
      if (e.status !== 404) onError(e.message);
    }
  });
  $("phrase-make").addEventListener("click", async () => {
    try {
      const made = await authed(session, "POST", "/v1/me/recovery-phrase");
      $("phrase-shown").textContent = made.phrase;
      $("phrase-shown").hidden = false;
      $("phrase-once").hidden = false;
      $("phrase-make").textContent = "Give me new words instead";
    } catch (e) {
      onError(e.message);
    }
  });
}

// The "Coming back?" form on the start page: the words as written down, then `onBack()`.
export function setUpPhraseForm(session, onBack, onError) {
  $("phrase-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      session.set(await call("POST", "/v1/auth/recover", null, { phrase: $("phrase").value }));
      $("phrase").value = "";
      $("come-back").open = false;
      await onBack();
    } catch (e) {
      onError(e.status === 429 ? "Too many tries. Wait a while, then try again." : e.message);
    }
  });
}
