// Staff sign-in, shared by the duty console and the admin page: the password form
// (`#login-form` with `#username` and `#password` in `#login`), the second step when the
// server asks for one, and setting a new password from a one-time reset link
// (`/console#reset=…`). Everything it adds to the page is built here, as text only, so the
// pages' own markup stays as it is.
import { call, el, showError, showInfo } from "./common.js";

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
}

// The password was right and the server wants a second factor (filled in with the two-step
// sign-in). Without one, the answer is an error the caller shows.
function secondStep(answer, signedIn) {
  showError((answer && answer.message) || "This sign-in needs a step this page does not know.");
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
