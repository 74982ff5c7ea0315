// The YOT admin's page: staff accounts, the duty rota, the services directory, group chats,
// survey reports and distance travelled (with small numbers withheld, as the API does),
// sending surveys to parents and carers, the survey after a chat and the audit log (saved
// replies, the moderation rules, the monitoring notice and verdict marks: admin-tools.js).
// Everything goes through the API; what people wrote is shown as text only.
import { Session, authed, el, showError, showInfo } from "./common.js";
import { addPasskeyButton } from "./passkeys.js";
import { staffSignIn } from "./signin.js";

const $ = (id) => document.getElementById(id);
const session = new Session("talkzone.admin");
const value = (id) => $(id).value.trim();
const optional = (id) => value(id) || undefined;

staffSignIn(session, ["yot_admin"], "This page is for YOT admins.", () => start());

// What an action came to, said right under the form (or list) that caused it, not at the foot
// of a long page; an error stays until the next try, which clears it first, so an old
// "Created …" never stands beside a form that has just failed.
function say(anchorId, kind, text) {
  const anchor = $(anchorId);
  let line = anchor.nextElementSibling;
  if (!line || !line.classList.contains("form-message")) {
    line = el("p", { "data-for": anchorId });
    anchor.after(line);
  }
  line.className = `form-message ${kind}`;
  line.setAttribute("role", kind === "error" ? "alert" : "status");
  line.textContent = text;
  line.hidden = false;
  if (line.scrollIntoView) line.scrollIntoView({ block: "nearest" });
}

function unsay(anchorId) {
  const line = $(anchorId).nextElementSibling;
  if (line && line.classList.contains("form-message")) {
    line.textContent = "";
    line.hidden = true;
  }
}

$("user-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  unsay("user-form");
  try {
    const user = await authed(session, "POST", "/v1/admin/users", {
      username: value("new-username"), password: $("new-password").value, role: $("new-role").value, display_name: optional("new-name"),
    });
    $("user-form").reset();
    say("user-form", "info", `Created ${user.display_name} (${user.role.replace("_", " ")}).`);
    loadStaff();
  } catch (e) {
    say("user-form", "error", e.message);
  }
});

$("service-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  unsay("service-form");
  try {
    await authed(session, "POST", "/v1/services", {
      name: value("svc-name"), category: value("svc-category"), description: value("svc-description"), area: optional("svc-area"),
      phone: optional("svc-phone"), url: optional("svc-url"), hours: optional("svc-hours"),
    });
    $("service-form").reset();
    loadServices();
  } catch (e) {
    say("service-form", "error", e.message);
  }
});

$("room-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  unsay("room-form");
  try {
    await authed(session, "POST", "/v1/rooms", {
      topic: value("room-topic"), age_band: value("room-ages"), moderation: $("room-moderation").value, personal_info: $("room-pii").value,
    });
    $("room-form").reset();
    loadRooms();
  } catch (e) {
    say("room-form", "error", e.message);
  }
});

$("load-audit").addEventListener("click", async () => {
  unsay("load-audit");
  try {
    const log = await authed(session, "GET", "/v1/admin/audit?days=7");
    $("audit").replaceChildren(...log.entries.map((e) => el("li", {},
      el("span", { class: "muted" }, new Date(e.at).toLocaleString()),
      el("span", {}, e.action.replaceAll("_", " ")),
      e.target ? el("span", { class: "muted" }, e.target) : null,
      e.details ? el("span", {}, e.details) : null)));
  } catch (e) {
    say("load-audit", "error", e.message);
  }
});

async function loadStaff() {
  const list = await authed(session, "GET", "/v1/admin/users");
  $("staff").replaceChildren(...list.accounts.map((a) => el("li", { "data-user-id": a.id },
    el("strong", {}, a.display_name),
    el("span", { class: "muted" }, [a.username, a.role.replace("_", " "), a.on_duty && "on duty", a.suspended && "suspended"].filter(Boolean).join(" · ")))));
  const desk = list.accounts.filter((a) => a.role === "duty_worker" || a.role === "supervisor");
  $("shift-user").replaceChildren(...desk.map((a) => el("option", { value: a.id }, a.display_name)));
}

$("shift-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  unsay("shift-form");
  try {
    // The inputs are in the admin's local time; the API takes RFC 3339 (UTC).
    await authed(session, "POST", "/v1/rota/shifts", {
      user_id: $("shift-user").value,
      starts_at: new Date($("shift-start").value).toISOString(),
      ends_at: new Date($("shift-end").value).toISOString(),
    });
    loadShifts();
  } catch (e) {
    say("shift-form", "error", e.message);
  }
});

async function loadShifts() {
  const rota = await authed(session, "GET", "/v1/rota/shifts");
  const when = (iso) => new Date(iso).toLocaleString([], { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  $("shifts").replaceChildren(...rota.shifts.map((sh) => el("li", { "data-shift-id": sh.id },
    el("strong", {}, sh.user.display_name),
    el("span", {}, `${when(sh.starts_at)} – ${when(sh.ends_at)}`),
    el("button", { type: "button", class: "secondary", onclick: () => removeShift(sh.id) }, "Remove"))));
}

async function removeShift(id) {
  unsay("shifts");
  try {
    await authed(session, "DELETE", `/v1/rota/shifts/${encodeURIComponent(id)}`);
    loadShifts();
  } catch (e) {
    say("shifts", "error", e.message);
  }
}

async function loadSurveys() {
  const list = await authed(session, "GET", "/v1/surveys");
  await loadSurveyChoices(list.surveys);
  $("surveys").replaceChildren(...list.surveys.filter((v) => v.latest_version).map((v) => el("li", { "data-survey-id": v.id },
    el("strong", {}, v.draft.title),
    el("span", { class: "muted" }, `version ${v.latest_version}`),
    el("button", { type: "button", "data-report": "show", onclick: () => showReport(v.id, v.latest_version) }, "Report"),
    el("button", { type: "button", class: "secondary", onclick: () => downloadCsv(v.id, v.latest_version) }, "CSV"))));
}

const cell = (c) => (c.suppressed ? "withheld" : String(c.value));

async function showReport(id, version) {
  unsay("surveys");
  try {
    const r = await authed(session, "GET", `/v1/surveys/${encodeURIComponent(id)}/versions/${version}/report${filtered()}`);
    const head = el("h3", {}, `${r.title} (version ${r.version})`);
    if (r.suppressed) {
      $("report").replaceChildren(head, el("p", { class: "withheld" }, "Withheld: " + (r.suppression_reason || "too few responses")));
      return;
    }
    $("report").replaceChildren(head,
      el("p", {}, `Sent ${cell(r.assigned)}, answered ${cell(r.completed)}` +
        (r.response_rate === null || r.response_rate === undefined ? "" : `, ${Math.round(r.response_rate * 100)}%`)),
      ...r.questions.map((q) => el("div", { class: "question" },
        el("h4", {}, q.text),
        el("p", { class: "muted" }, `answered ${cell(q.answered)}` + (q.mean === null || q.mean === undefined ? "" : ` · mean ${q.mean} · median ${q.median}`)),
        q.distribution.length ? el("ul", {}, q.distribution.map((d) => el("li", {}, `${d.label}: ${d.suppressed ? "withheld" : d.count}`))) : null,
        q.free_text ? el("ul", { class: "free-text" }, q.free_text.map((t) => el("li", {}, t))) : null)));
  } catch (e) {
    say("surveys", "error", e.message);
  }
}

// A CSV needs the access token in a header, so it is fetched and saved from the page.
async function download(path, filename, anchorId) {
  unsay(anchorId);
  try {
    const resp = await fetch(path, { headers: { Authorization: "Bearer " + (await session.token()) } });
    if (!resp.ok) throw new Error(`the CSV could not be made (${resp.status})`);
    const link = el("a", { href: URL.createObjectURL(await resp.blob()), download: filename });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (e) {
    say(anchorId, "error", e.message);
  }
}

const downloadCsv = (id, version) =>
  download(`/v1/surveys/${encodeURIComponent(id)}/versions/${version}/report.csv${filtered()}`, `talkzone-survey-${id}-v${version}.csv`, "surveys");

const STAGES = [["start", "start"], ["middle", "middle"], ["end", "end"], ["follow_up", "follow-up"]];
for (const select of document.querySelectorAll("select.stage")) {
  select.append(...STAGES.map(([v, label]) => el("option", { value: v }, label)));
}
$("filter-stage").prepend(el("option", { value: "" }, "any"));
$("filter-stage").value = "";

// The filters chosen, as query parameters; the API withholds what they would give away.
const FILTERS = ["intervention_type", "age_band", "gender", "ethnicity", "looked_after", "stage", "from", "to"];
function filtered(params = {}, except = []) {
  const q = new URLSearchParams(params);
  for (const name of FILTERS.filter((f) => !except.includes(f))) {
    const v = $(`filter-${name}`).value;
    if (v) q.set(name, v);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}
$("distance-to").value = "end";
let surveysById = new Map();

function showScaleQuestions() {
  const survey = surveysById.get($("distance-survey").value);
  const scales = survey ? survey.draft.questions.filter((q) => q.kind === "emoji_scale" || q.kind === "scale_0_10") : [];
  $("distance-question").replaceChildren(...scales.map((q) => el("option", { value: q.id }, q.text)));
}
$("distance-survey").addEventListener("change", showScaleQuestions);

function distancePath(ext) {
  // `stage` is for reports: distance travelled has its two stages.
  const q = filtered({ question_id: $("distance-question").value, from_stage: $("distance-from").value, to_stage: $("distance-to").value }, ["stage"]);
  return `/v1/surveys/${encodeURIComponent($("distance-survey").value)}/distance${ext}${q}`;
}

$("distance-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  unsay("distance-form");
  try {
    const d = await authed(session, "GET", distancePath(""));
    if (d.suppressed) {
      $("distance").replaceChildren(el("p", { class: "withheld" }, "Withheld: " + (d.suppression_reason || "too few pairs")));
      return;
    }
    const share = (c) => (c.suppressed ? "withheld" : `${c.count} (${Math.round(c.share * 100)}%)`);
    const mean = d.mean_change === null || d.mean_change === undefined ? "withheld" : (d.mean_change > 0 ? "+" : "") + d.mean_change.toFixed(2);
    $("distance").replaceChildren(el("ul", { class: "list" },
      el("li", {}, `${cell(d.pairs)} pairs, from ${d.from_stage.replace("_", "-")} to ${d.to_stage.replace("_", "-")}`),
      el("li", {}, `improved: ${share(d.improved)}`),
      el("li", {}, `same: ${share(d.same)}`),
      el("li", {}, `worse: ${share(d.worse)}`),
      el("li", {}, `mean change: ${mean}`)));
  } catch (e) {
    say("distance-form", "error", e.message);
  }
});

$("distance-csv").addEventListener("click", () =>
  download(distancePath(".csv"), `talkzone-distance-${$("distance-survey").value}-${$("distance-question").value}.csv`, "distance-form"));

// The equality fields offer the same values as the report filters, "any" read as "not recorded".
for (const select of document.querySelectorAll("select[data-options-from]")) {
  select.replaceChildren(...[...$(select.dataset.optionsFrom).options].map((o) =>
    el("option", { value: o.value }, o.value ? o.textContent : "not recorded")));
}
const EQUALITY = ["age_band", "gender", "ethnicity", "looked_after"];

$("participant-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  unsay("participant-form");
  try {
    await authed(session, "POST", "/v1/survey-participants", {
      reference: value("participant-reference"), intervention_type: $("participant-intervention").value,
      start_date: $("participant-start").value, end_date: $("participant-end").value || undefined,
      ...Object.fromEntries(EQUALITY.map((f) => [f, $(`participant-${f}`).value || undefined])),
    });
    $("participant-form").reset();
    await loadParticipants();
    await loadIdentity();
  } catch (e) {
    say("participant-form", "error", e.message);
  }
});

$("assignment-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  unsay("assignment-form");
  $("access-code").hidden = true;
  try {
    const sent = await authed(session, "POST", "/v1/survey-assignments", {
      survey_id: $("assignment-survey").value, participant_id: $("assignment-participant").value,
      stage: $("assignment-stage").value, due_date: $("assignment-due").value, respondent: { kind: "parent_carer" },
    });
    // Only a hash of the code is kept: this is the one time anyone sees it.
    const expires = new Date(sent.assignment.access_code_expires_at).toLocaleDateString();
    $("access-code").replaceChildren("Access code: ", el("strong", { class: "code" }, sent.access_code),
      ` (works until ${expires}). Write it down now: it cannot be shown again.`);
    $("access-code").hidden = false;
  } catch (e) {
    say("assignment-form", "error", e.message);
  }
});

$("feedback-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  unsay("feedback-form");
  try {
    await authed(session, "PUT", "/v1/surveys/chat-feedback", { survey_id: $("feedback-survey").value || null });
    say("feedback-form", "info", $("feedback-survey").value ? "Young people will be asked after each chat." : "Young people will not be asked after a chat.");
  } catch (e) {
    say("feedback-form", "error", e.message);
  }
});

async function loadParticipants() {
  const [types, list] = await Promise.all([authed(session, "GET", "/v1/intervention-types"), authed(session, "GET", "/v1/survey-participants")]);
  const names = new Map(types.intervention_types.map((t) => [t.id, t.name]));
  $("participant-intervention").replaceChildren(...types.intervention_types.filter((t) => !t.retired)
    .map((t) => el("option", { value: t.id }, t.name)));
  const chosen = $("filter-intervention_type").value;
  $("filter-intervention_type").replaceChildren(el("option", { value: "" }, "any"),
    ...types.intervention_types.map((t) => el("option", { value: t.id }, t.name)));
  $("filter-intervention_type").value = chosen;
  $("assignment-participant").replaceChildren(...list.participants.map((p) => el("option", { value: p.id },
    `${p.reference} · ${names.get(p.intervention_type) || p.intervention_type} · from ${p.start_date}`)));
}

async function loadSurveyChoices(surveys) {
  const published = surveys.filter((v) => v.latest_version);
  surveysById = new Map(published.map((v) => [v.id, v]));
  $("distance-survey").replaceChildren(...published.map((v) => el("option", { value: v.id }, v.draft.title)));
  showScaleQuestions();
  const forAudience = (audience) => published.filter((v) => v.draft.audience === audience).map((v) => el("option", { value: v.id }, v.draft.title));
  $("assignment-survey").replaceChildren(...forAudience("parent_carer"));
  const setting = await authed(session, "GET", "/v1/surveys/chat-feedback");
  $("feedback-survey").replaceChildren(el("option", { value: "" }, "nothing (no survey after a chat)"), ...forAudience("young_person"));
  $("feedback-survey").value = setting.survey_id || "";
}

async function loadServices() {
  const list = await authed(session, "GET", "/v1/services?include_retired=true");
  $("services").replaceChildren(...list.services.map((s) => el("li", { "data-service-id": s.id, class: s.retired ? "retired" : "" },
    el("strong", {}, s.name),
    el("span", { class: "muted" }, [s.category, s.area, s.retired && "retired"].filter(Boolean).join(" · ")),
    s.retired ? null : el("button", { type: "button", onclick: () => retire(s.id) }, "Retire"))));
}

async function retire(id) {
  unsay("services");
  try {
    await authed(session, "POST", `/v1/services/${encodeURIComponent(id)}/retire`);
    loadServices();
  } catch (e) {
    say("services", "error", e.message);
  }
}

async function loadRooms() {
  const list = await authed(session, "GET", "/v1/rooms");
  $("rooms").replaceChildren(...list.rooms.map((r) => el("li", { "data-room-id": r.id },
    el("strong", {}, r.topic || "Group chat"),
    el("span", { class: "muted" }, r.room ? `ages ${r.room.age_band} · ${r.room.moderation}-moderated` : ""))));
}

async function start() {
  $("login").hidden = true;
  $("panels").hidden = false;
  $("sign-out").hidden = false;
  addPasskeyButton(session);
  $("me").textContent = session.user.display_name;
  await loadOnCall();
  try {
    await loadStaff();
    await loadShifts();
    await loadServices();
    await loadRooms();
    await loadSurveys();
    await loadParticipants();
    await loadIdentity();
  } catch (e) {
    showError(e.message);
  }
}

// Whether an escalation nobody acknowledges can reach the on-call contact (from /readyz): if
// not, the page says so in red above everything else.
async function loadOnCall() {
  const line = $("on-call-warning");
  try {
    const ready = await (await fetch("/readyz")).json();
    const problems = ready.on_call && ready.on_call !== "ok" ? ready.warnings || [] : [];
    line.textContent = problems.length ? `On-call alerts: ${problems.join("; ")}.` : "";
    line.hidden = problems.length === 0;
  } catch (e) {
    line.textContent = "On-call alerts: the service's readiness could not be read.";
    line.hidden = false;
  }
  line.dataset.checked = "true";
}

// ---- Staff sign-in and access (issue 21) ----------------------------------------------------
// Suspend, reactivate, offboard, change role, a one-time password reset link, reset the second
// factor, and each staff member's sessions. Every action ends the account's sessions at once
// (the API does it); the page only asks and shows. Kept together here, apart from the rest.

let identityAccounts = [];

async function loadIdentity() {
  const list = await authed(session, "GET", "/v1/admin/users");
  identityAccounts = list.accounts;
  const chosen = $("identity-user").value;
  $("identity-user").replaceChildren(...identityAccounts.map((a) => el("option", { value: a.id },
    `${a.display_name} (${a.username || "single sign-on"})`)));
  if (chosen && identityAccounts.some((a) => a.id === chosen)) $("identity-user").value = chosen;
  await showIdentity();
}

function identityChosen() {
  return identityAccounts.find((a) => a.id === $("identity-user").value);
}

async function showIdentity() {
  const a = identityChosen();
  $("identity-reset").hidden = true;
  if (!a) { $("identity-state").textContent = "No staff accounts yet."; $("identity-sessions").replaceChildren(); return; }
  // The sessions are fetched first, so that the state and its sessions change on screen together
  // (a "suspended" account never shows the sessions it had a moment ago).
  const sessions = a.offboarded ? { sessions: [] } : await authed(session, "GET", `/v1/admin/users/${a.id}/sessions`);
  const state = a.offboarded ? "offboarded (for good)" : a.suspended ? "suspended" : "active";
  $("identity-state").textContent = [a.role.replace("_", " "), state, a.second_factor ? "second factor set up" : "no second factor yet",
    a.on_duty && "on duty"].filter(Boolean).join(" · ");
  $("identity-state").dataset.state = a.offboarded ? "offboarded" : a.suspended ? "suspended" : "active";
  $("identity-role").value = a.role;
  $("identity-sessions").replaceChildren(...sessions.sessions.map((s) => el("li", { "data-session-id": s.id },
    el("span", {}, s.user_agent || "unknown device"),
    el("span", { class: "muted" }, [s.source_ip, s.method, "since " + new Date(s.created_at).toLocaleString(),
      s.last_seen_at && "last seen " + new Date(s.last_seen_at).toLocaleString()].filter(Boolean).join(" · ")),
    el("button", { type: "button", class: "secondary", onclick: () => identityAct(`/v1/admin/users/${a.id}/sessions/${s.id}`, "DELETE", undefined, "Session ended.") },
      "End"))));
}

// One action on the chosen account; `then` is what to say when it worked.
async function identityAct(path, method, body, then) {
  try {
    await authed(session, method, path, body);
    showInfo(then);
    await loadIdentity();
    await loadStaff();
  } catch (e) {
    showError(e.message);
  }
}

function identityReason() {
  return value("identity-reason") ? { reason: value("identity-reason") } : {};
}

$("identity-user").addEventListener("change", () => showIdentity().catch((e) => showError(e.message)));
$("identity-suspend").addEventListener("click", () =>
  identityAct(`/v1/admin/users/${identityChosen().id}/suspend`, "POST", identityReason(), "Suspended: every session has ended."));
$("identity-reactivate").addEventListener("click", () =>
  identityAct(`/v1/admin/users/${identityChosen().id}/reactivate`, "POST", identityReason(), "Reactivated: they can sign in again."));
$("identity-set-role").addEventListener("click", () =>
  identityAct(`/v1/admin/users/${identityChosen().id}/role`, "PUT", { role: $("identity-role").value }, "Role changed: they sign in again with it."));
$("identity-reset-factor").addEventListener("click", () =>
  identityAct(`/v1/admin/users/${identityChosen().id}/second-factor/reset`, "POST", identityReason(), "Second factor reset: they set it up again at their next sign-in."));
$("identity-end-all").addEventListener("click", () =>
  identityAct(`/v1/admin/users/${identityChosen().id}/sessions`, "DELETE", undefined, "Every session has ended."));

// Offboarding is for good: the button asks for a second click.
$("identity-offboard").addEventListener("click", () => {
  const button = $("identity-offboard");
  if (button.dataset.armed !== "yes") {
    button.dataset.armed = "yes";
    button.textContent = "Offboard for good? Click again";
    setTimeout(() => { button.dataset.armed = ""; button.textContent = "Offboard a leaver"; }, 5000);
    return;
  }
  button.dataset.armed = "";
  button.textContent = "Offboard a leaver";
  identityAct(`/v1/admin/users/${identityChosen().id}/offboard`, "POST", identityReason(), "Offboarded: they can no longer sign in.");
});

// The code is shown once, as a link to the console's reset form (in the fragment, so it is
// never sent to a server or kept in a log).
$("identity-reset-password").addEventListener("click", async () => {
  try {
    const issued = await authed(session, "POST", `/v1/admin/users/${identityChosen().id}/password-reset`);
    $("identity-reset-link").textContent = location.origin + issued.path;
    $("identity-reset").hidden = false;
  } catch (e) {
    showError(e.message);
  }
});

if (session.active) start();
