// Staff sign-in, shared by the duty console and the admin page: the password form
// (`#login-form` with `#username` and `#password` in `#login`), the second step when the
// server asks for one, and setting a new password from a one-time reset link
// (`/console#reset=…`). Everything it adds to the page is built here, as text only, so the
// pages' own markup stays as it is.
import { call, el, showError, showInfo } from "./common.js";
import { passkeysWork, signInWithPasskey } from "./passkeys.js";

const $ = (id) => document.getElementById(id);

// Only `roles` may sign in here (the API checks every call anyway); `onSignedIn` starts the
// page, `onSignOut` stops what it runs. Also wires `#sign-out`.
export function staffSignIn(session, roles, refusal, onSignedIn, onSignOut) {
  const signedIn = (tokens) => {
    if (!roles.includes(tokens.user.role)) throw new Error(refusal);
    session.set(tokens);
    $("password").value = "";
    $("error").hidden = true; // a refused earlier try is no longer true
    onSignedIn();
  };
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const answer = await call("POST", "/v1/auth/login", null, { username: $("username").value, password: $("password").value });
      if (answer.access_token) signedIn(answer);
      else secondStep(answer, signedIn);
    } catch (e) {
      showError(e.message);
    }
  });
  $("sign-out").addEventListener("click", async () => {
    try { await call("POST", "/v1/auth/logout", null, { refresh_token: session.data.refresh_token }); } catch (e) { /* ended anyway */ }
    if (onSignOut) onSignOut();
    session.clear();
    location.reload();
  });
  resetFromLink();
  ssoFromLink(signedIn);
}

// Back from single sign-on (`/v1/auth/sso/callback`): the new session's refresh token is in the
// URL's fragment (never sent to a server); it leaves the address bar at once and is spent at
// once for this page's tokens (the refresh rotates it, so the one in the history is worthless).
async function ssoFromLink(signedIn) {
  const match = location.hash.match(/^#sso=([A-Za-z0-9_-]+)$/);
  if (!match) return;
  history.replaceState(null, "", location.pathname);
  try {
    signedIn(await call("POST", "/v1/auth/refresh", null, { refresh_token: match[1] }));
  } catch (e) {
    showError(e.message);
  }
}

// The password was right and the server wants a second factor: a code from the authenticator
// app (or a recovery code); or, the first time, setting one up: the secret to add to the app,
// then a code from it, then the recovery codes, shown this once.
function secondStep(answer, signedIn) {
  const step = answer && answer.second_factor;
  if (!step) return showError("This sign-in needs a step this page does not know.");
  const enrol = step.kind === "enrol" && step.enrolment;
  const form = el("form", { id: "second-factor-form" },
    el("h2", {}, enrol ? "Set up your second factor" : "Your second factor"),
    enrol ? [
      el("p", {}, "Staff accounts need an authenticator app as well as the password. In the app, add an account with this key (or open the link on your phone), then type the 6-digit code it shows."),
      el("p", { class: "secret", id: "second-factor-secret" }, step.enrolment.secret.replace(/(.{4})/g, "$1 ").trim()),
      el("p", {}, el("a", { href: step.enrolment.otpauth_url, id: "second-factor-link" }, "Open in an authenticator app")),
    ] : el("p", {}, step.passkey && passkeysWork()
      ? "Use your passkey, or type the 6-digit code from your authenticator app (or one of your recovery codes)."
      : "Type the 6-digit code from your authenticator app, or one of your recovery codes."),
    el("label", { for: "second-factor-code" }, enrol ? "Code from the app" : "Code"),
    el("input", { id: "second-factor-code", autocomplete: "one-time-code", inputmode: enrol ? "numeric" : "text", required: true }),
    el("button", { type: "submit" }, enrol ? "Set up and sign in" : "Sign in"),
    el("button", { type: "button", class: "secondary", id: "second-factor-cancel" }, "Start again"));
  $("login-form").hidden = true;
  $("error").hidden = true;
  $("login").append(form);
  $("second-factor-code").focus();
  const startAgain = () => { form.remove(); $("login-form").hidden = false; $("password").value = ""; };
  $("second-factor-cancel").addEventListener("click", startAgain);
  // The account has a passkey: it can answer this step instead of a code.
  if (step.passkey && passkeysWork()) {
    const use = el("button", { type: "button", class: "secondary", id: "second-factor-passkey" }, "Use a passkey");
    $("second-factor-cancel").before(use);
    use.addEventListener("click", async () => {
      try {
        const tokens = await signInWithPasskey(step.challenge);
        form.remove();
        $("error").hidden = true;
        signedIn(tokens);
      } catch (e) {
        if (e.status === 401 && /expired|too many/.test(e.message)) startAgain();
        showError(e.name === "NotAllowedError" ? "The passkey did not answer (cancelled or timed out): try again, or type a code." : e.message);
      }
    });
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const tokens = await call("POST", "/v1/auth/login/second-factor", null, { challenge: step.challenge, code: $("second-factor-code").value });
      form.remove();
      $("error").hidden = true; // a wrong code before is no longer true
      if (tokens.recovery_codes) showRecoveryCodes(tokens, signedIn);
      else signedIn(tokens);
    } catch (e) {
      $("second-factor-code").value = "";
      if (e.status === 401 && /expired|too many/.test(e.message)) startAgain();
      showError(e.message);
    }
  });
}

// Shown once, at set-up: each signs in once in place of a code if the phone is lost.
function showRecoveryCodes(tokens, signedIn) {
  const box = el("section", { id: "recovery-codes" },
    el("h2", {}, "Your recovery codes"),
    el("p", {}, "Keep these somewhere safe, away from your phone (a password manager, or on paper at home). Each one signs you in once if you lose the app. They are shown only now."),
    el("ol", { class: "codes" }, tokens.recovery_codes.map((c) => el("li", {}, c))),
    el("button", { type: "button", id: "recovery-codes-saved" }, "I have saved them: continue"));
  $("login").append(box);
  $("recovery-codes-saved").addEventListener("click", () => {
    box.remove();
    try { signedIn(tokens); } catch (e) { $("login-form").hidden = false; showError(e.message); }
  });
}

// A one-time reset link opens this form instead of the sign-in: the person sets their own new
// password (nobody else ever knows it), then signs in with it. The code is in the URL's
// fragment, so it never reaches a server log; it leaves the address bar at once.
function resetFromLink() {
  const match = location.hash.match(/^#reset=([A-Za-z0-9_-]+)$/);
  if (!match) return;
  const code = match[1];
  history.replaceState(null, "", location.pathname);
  const form = el("form", { id: "reset-form" },
    el("h2", {}, "Set a new password"),
    el("label", { for: "reset-password" }, "New password (at least 12 characters, not a common one)"),
    el("input", { id: "reset-password", type: "password", autocomplete: "new-password", required: true }),
    el("label", { for: "reset-again" }, "The same again"),
    el("input", { id: "reset-again", type: "password", autocomplete: "new-password", required: true }),
    el("button", { type: "submit" }, "Set password"));
  $("login-form").hidden = true;
  $("login").append(form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if ($("reset-password").value !== $("reset-again").value) return showError("The two passwords are not the same.");
    try {
      await call("POST", "/v1/auth/password-reset", null, { code, new_password: $("reset-password").value });
      form.remove();
      $("login-form").hidden = false;
      showInfo("Your new password is set: sign in with it.");
    } catch (e) {
      showError(e.message);
    }
  });
}
