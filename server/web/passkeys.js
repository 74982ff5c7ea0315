// Passkeys (WebAuthn) for staff, as the second step of a sign-in and added from a signed-in
// page. The server's options carry binary fields as base64url strings; the browser's API wants
// ArrayBuffers, and its answer goes back as base64url JSON. The server checks everything.
import { authed, call, el, showError, showInfo } from "./common.js";

const $ = (id) => document.getElementById(id);

export const passkeysWork = () => typeof window.PublicKeyCredential === "function" && !!navigator.credentials;

function fromB64(s) {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(s.length / 4) * 4, "=");
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
}

function toB64(buf) {
  if (!buf) return null;
  let s = "";
  for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const withIds = (list) => (list || []).map((c) => ({ ...c, id: fromB64(c.id) }));

// The passkey's answer for a sign-in's challenge (after the password); the session's tokens.
export async function signInWithPasskey(challenge) {
  const { options } = await call("POST", "/v1/auth/login/passkey/start", null, { challenge });
  const pk = options.publicKey;
  const got = await navigator.credentials.get({
    publicKey: { ...pk, challenge: fromB64(pk.challenge), allowCredentials: withIds(pk.allowCredentials) },
  });
  const r = got.response;
  const credential = {
    id: got.id, rawId: toB64(got.rawId), type: got.type, extensions: {},
    response: {
      authenticatorData: toB64(r.authenticatorData), clientDataJSON: toB64(r.clientDataJSON),
      signature: toB64(r.signature), userHandle: toB64(r.userHandle),
    },
  };
  return call("POST", "/v1/auth/login/passkey", null, { challenge, credential });
}

// "Add a passkey" in the page's header, beside "Sign out", for a signed-in staff member.
export function addPasskeyButton(session) {
  if (!passkeysWork() || $("add-passkey")) return;
  const button = el("button", { type: "button", class: "secondary", id: "add-passkey" }, "Add a passkey");
  $("sign-out").before(button);
  button.addEventListener("click", async () => {
    try {
      const started = await authed(session, "POST", "/v1/me/passkeys/registration");
      const pk = started.options.publicKey;
      const made = await navigator.credentials.create({
        publicKey: {
          ...pk, challenge: fromB64(pk.challenge), user: { ...pk.user, id: fromB64(pk.user.id) },
          excludeCredentials: withIds(pk.excludeCredentials),
        },
      });
      const credential = {
        id: made.id, rawId: toB64(made.rawId), type: made.type, extensions: {},
        response: { attestationObject: toB64(made.response.attestationObject), clientDataJSON: toB64(made.response.clientDataJSON) },
      };
      const name = `Passkey added ${new Date().toLocaleDateString()}`;
      await authed(session, "POST", "/v1/me/passkeys", { registration: started.registration, name, credential });
      showInfo("Passkey added: next time, after your password, you can use it instead of a code.");
    } catch (e) {
      showError(e.name === "NotAllowedError" ? "No passkey was added (it was cancelled or timed out)." : e.message);
    }
  });
}
