// The YOT admin's tools for what staff and the moderation step work from: saved replies, the
// moderation rules by version, the monitoring notice by version, and what staff marked on
// moderation verdicts. Kept apart from admin.js (accounts, rota, directory, rooms, surveys,
// audit) so that each can change without the other: admin.html gives each tool an empty
// <section>, which this file fills, and loads the data once the admin has signed in there.
// Everything goes through the API; what people wrote is shown as text only.
import { Session, authed, el, categoryWords } from "./common.js";

const $ = (id) => document.getElementById(id);
// The same session as admin.js (the same key): `Session.token` keeps the two in step.
const session = new Session("talkzone.admin");
let names = new Map(); // staff id -> name, for "who put it in force"

// What an action came to, right under `anchor` (a form, a list, a table) until the next try;
// an error is announced at once (role=alert), a confirmation politely (role=status).
function say(anchor, kind, text) {
  let line = anchor.nextElementSibling;
  if (!line || !line.classList.contains("form-message")) {
    line = el("p", { id: `${anchor.id}-message` });
    anchor.after(line);
  }
  line.className = `form-message ${kind}`;
  line.setAttribute("role", kind === "error" ? "alert" : "status");
  line.textContent = text;
  line.hidden = false;
  if (line.scrollIntoView) line.scrollIntoView({ block: "nearest" });
  return line;
}

function unsay(anchor) {
  const line = anchor.nextElementSibling;
  if (line && line.classList.contains("form-message")) {
    line.textContent = "";
    line.hidden = true;
  }
}

// A yes/no question in place of `window.confirm`, after `place` (the button `anchor` that asked,
// unless that is in a table cell); `onYes` runs on yes, Cancel and Escape go back to `anchor`.
// One question at a time.
function confirmBeside(anchor, question, yesLabel, onYes, place = anchor) {
  for (const old of document.querySelectorAll("#panels .confirm")) old.remove();
  const box = el("div", { class: "confirm", role: "alertdialog", "aria-label": question });
  const no = el("button", { type: "button", class: "secondary", "data-confirm": "no", onclick: () => { box.remove(); anchor.focus(); } }, "Cancel");
  const yes = el("button", { type: "button", class: "danger", "data-confirm": "yes", onclick: () => { box.remove(); onYes(); } }, yesLabel);
  box.append(el("p", {}, question), yes, " ", no);
  box.addEventListener("keydown", (ev) => { if (ev.key === "Escape") no.click(); });
  place.after(box);
  no.focus();
}

const when = (iso) => new Date(iso).toLocaleString([], { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
const who = (id) => (id ? names.get(id) || "a former member of staff" : "Talk Zone itself");

// A table with a caption and column headers; `rows` are arrays of cells: a string or a node,
// {th: text} for the row's header, {num: text} for a number. On a wide screen, in a region
// that scrolls sideways if need be (focusable, so that a keyboard can scroll it); on a phone,
// a table of versions (`stack`) shows each row as a card, each cell with its column's name
// (talkzone.css), so that nothing (the buttons least of all) is off the side. The roles are
// said outright because a table shown as blocks loses them in some browsers.
function table(id, caption, headers, rows, stack = false) {
  const cell = (c, i) => {
    const label = { "data-label": headers[i] };
    if (c instanceof Node || typeof c !== "object" || c === null) return el("td", { role: "cell", ...label }, c);
    return c.th !== undefined
      ? el("th", { scope: "row", role: "rowheader", ...label }, c.th)
      : el("td", { class: "num", role: "cell", ...label }, c.num);
  };
  return el("div", { class: "table-wrap" + (stack ? " stack" : ""), role: "region", "aria-labelledby": `${id}-caption`, tabindex: "0" },
    el("table", { id, role: "table" },
      el("caption", { id: `${id}-caption` }, caption),
      el("thead", { role: "rowgroup" }, el("tr", { role: "row" }, headers.map((h) => el("th", { scope: "col", role: "columnheader" }, h)))),
      el("tbody", { role: "rowgroup" }, rows.map((r) => el("tr", { role: "row" }, r.map(cell))))));
}

// ---------------------------------------------------------------------------------------------
// Saved replies
// ---------------------------------------------------------------------------------------------

const VARIABLES = ["{worker_name}", "{young_person_name}"];
let editing = null; // the id of the reply in the form, when editing one

function buildCanned(section) {
  const title = el("input", { id: "canned-title", maxlength: 80, required: true });
  const body = el("textarea", { id: "canned-body", maxlength: 2000, rows: 4, required: true, "aria-describedby": "canned-variables" });
  const insert = (v) => el("button", { type: "button", class: "secondary small", "data-insert": v, onclick: () => {
    const [a, b] = [body.selectionStart ?? body.value.length, body.selectionEnd ?? body.value.length];
    body.value = body.value.slice(0, a) + v + body.value.slice(b);
    body.focus();
    body.selectionStart = body.selectionEnd = a + v.length;
    preview();
  } }, `Insert ${v}`);
  const shown = el("p", { id: "canned-preview", class: "preview" });
  const preview = () => {
    const text = body.value.replaceAll("{worker_name}", "Alex").replaceAll("{young_person_name}", "Sam");
    shown.replaceChildren(el("span", { class: "muted" }, "How it reads for a worker called Alex chatting with Sam: "), text || "…");
  };
  body.addEventListener("input", preview);
  const form = el("form", { id: "canned-form" },
    el("label", { for: "canned-title" }, "Title (what workers choose from the list; up to 80 characters, each title once)"), title,
    el("label", { for: "canned-body" }, "The reply (up to 2,000 characters)"), body,
    el("p", { id: "canned-variables", class: "muted" },
      "Two words in curly brackets are filled in when a worker picks the reply: {worker_name} becomes the name young people see for that worker, and {young_person_name} the young person's name in the chat (or “there” when they have none). No other {…} is allowed."),
    el("p", { class: "inserts" }, VARIABLES.map(insert)),
    shown,
    el("button", { type: "submit", id: "canned-save" }, "Add the reply"), " ",
    el("button", { type: "button", id: "canned-cancel", class: "secondary", hidden: true, onclick: () => stopEditing() }, "Cancel editing"));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); saveCanned(); });
  section.append(
    el("h2", { id: "canned-heading" }, "Saved replies"),
    el("p", { class: "muted" }, "Replies duty workers and supervisors can put into a chat from “Saved replies…” in the console. They read each one over, and can change it, before they send it."),
    form,
    el("h3", {}, "The replies"),
    el("ol", { id: "canned-list", class: "list" }));
  preview();
}

function stopEditing() {
  editing = null;
  $("canned-form").reset();
  $("canned-save").textContent = "Add the reply";
  $("canned-cancel").hidden = true;
  $("canned-body").dispatchEvent(new Event("input"));
}

async function saveCanned() {
  const form = $("canned-form");
  const body = $("canned-body");
  unsay(form);
  body.removeAttribute("aria-invalid");
  body.setAttribute("aria-describedby", "canned-variables");
  const req = { title: $("canned-title").value.trim(), body: $("canned-body").value };
  try {
    if (editing) await authed(session, "PUT", `/v1/canned-replies/${encodeURIComponent(editing)}`, req);
    else await authed(session, "POST", "/v1/canned-replies", req);
    const done = editing ? `Saved “${req.title}”.` : `Added “${req.title}”: workers can use it now.`;
    stopEditing();
    await loadCanned();
    say(form, "info", done);
  } catch (e) {
    // The reason is read with the reply box, beside what the variables are.
    const line = say(form, "error", e.message);
    body.setAttribute("aria-invalid", "true");
    body.setAttribute("aria-describedby", `${line.id} canned-variables`);
  }
}

function editCanned(c) {
  editing = c.id;
  $("canned-title").value = c.title;
  $("canned-body").value = c.body;
  $("canned-body").dispatchEvent(new Event("input"));
  $("canned-save").textContent = "Save changes";
  $("canned-cancel").hidden = false;
  unsay($("canned-form"));
  $("canned-form").scrollIntoView({ block: "start" });
  $("canned-title").focus();
}

function deleteCanned(c, button) {
  confirmBeside(button, `Delete “${c.title}”? Workers will no longer be offered it.`, "Yes, delete it", async () => {
    unsay($("canned-list"));
    try {
      await authed(session, "DELETE", `/v1/canned-replies/${encodeURIComponent(c.id)}`);
      if (editing === c.id) stopEditing();
      unsay($("canned-form")); // an earlier "Saved …" there is old news
      await loadCanned();
      say($("canned-list"), "info", `Deleted “${c.title}”.`);
    } catch (e) {
      say($("canned-list"), "error", e.message);
    }
  });
}

async function loadCanned() {
  const list = (await authed(session, "GET", "/v1/canned-replies")).canned_replies;
  $("canned-list").replaceChildren(...list.map((c) => el("li", { "data-canned-id": c.id, class: "canned" },
    el("strong", {}, c.title),
    el("span", { class: "muted" }, `changed ${when(c.updated_at)}`),
    el("p", { class: "body" }, c.body),
    el("button", { type: "button", class: "secondary", "data-do": "edit", "aria-label": `Edit “${c.title}”`, onclick: () => editCanned(c) }, "Edit"),
    el("button", { type: "button", class: "danger", "data-do": "delete", "aria-label": `Delete “${c.title}”`, onclick: (ev) => deleteCanned(c, ev.currentTarget) }, "Delete"))));
  if (!list.length) $("canned-list").append(el("li", { class: "muted" }, "No saved replies yet."));
}

// ---------------------------------------------------------------------------------------------
// Versions of a text the service runs on: the moderation rules, the monitoring notice
// ---------------------------------------------------------------------------------------------

function versionRows(versions, builtin, actions) {
  if (!versions.length) return [[{ th: "built-in" }, "—", "—", builtin, el("strong", { class: "in-force" }, "in force"), ""]];
  return versions.map((v) => [
    { th: String(v.version) },
    when(v.created_at),
    who(v.created_by),
    v.note || "",
    v.in_force ? el("strong", { class: "in-force" }, "in force") : "earlier",
    actions(v),
  ]);
}

// The moderation rules.

const POLICY_MAX_BYTES = 1024 * 1024; // as the server takes (http::policies)

function buildPolicy(section) {
  const file = el("input", { id: "policy-file", type: "file", accept: ".toml,text/plain,application/toml" });
  file.addEventListener("change", () => loadPolicyFile(file));
  const form = el("form", { id: "policy-form", hidden: true },
    el("label", { for: "policy" }, "The rules (TOML)"),
    el("textarea", { id: "policy", rows: 16, spellcheck: "false", required: true }),
    el("button", { type: "submit" }, "Put in force"));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); putPolicy(); });
  section.append(
    el("h2", {}, "Moderation rules"),
    el("p", { class: "muted" }, "Every message is checked against these rules, written in TOML (the format is in docs/moderation.md, “The policy file”). New rules are checked before they are used: rules with a mistake are refused, with what is wrong, and the rules in force stay. Every version is kept, and an earlier one can be put back."),
    el("div", { id: "policy-versions-box" }),
    el("div", { id: "policy-view", class: "version-view", hidden: true }),
    el("h3", {}, "Put new rules in force"),
    el("p", {}, el("button", { type: "button", id: "load-policy" }, "Edit the rules in force")),
    el("label", { for: "policy-file" }, "Or start from a file (.toml, up to 1 MB): it is shown here to read over before it is put in force"),
    file,
    form);
}

let policyVersions = [];

async function loadPolicyVersions() {
  policyVersions = (await authed(session, "GET", "/v1/admin/moderation/policy/versions")).versions;
  const actions = (v) => el("span", { class: "actions" },
    el("button", { type: "button", class: "secondary", "data-do": "view", "aria-label": `View version ${v.version}`, onclick: () => viewPolicy(v.version) }, "View"),
    v.in_force ? null : el("button", { type: "button", "data-do": "restore", "aria-label": `Restore version ${v.version}`, onclick: (ev) => askRestore(v.version, ev.currentTarget) }, "Restore"));
  $("policy-versions-box").replaceChildren(table("policy-versions", "Versions of the rules, newest first",
    ["Version", "Put in force", "By", "Note", "Now", "Actions"], versionRows(policyVersions, "the rules that come with Talk Zone", actions), true));
}

function viewPolicy(version) {
  const v = policyVersions.find((x) => x.version === version);
  if (!v) return;
  const box = $("policy-view");
  box.replaceChildren(
    el("h3", { id: "policy-view-title", tabindex: "-1" }, `Version ${v.version}${v.in_force ? " (in force)" : ""}`),
    el("p", { class: "muted" }, [`Put in force ${when(v.created_at)} by ${who(v.created_by)}`, v.note].filter(Boolean).join(" · ")),
    el("pre", { id: "policy-view-body", tabindex: "0", "aria-label": `The rules of version ${v.version}` }, v.body),
    v.in_force ? null : el("button", { type: "button", "data-do": "restore", onclick: (ev) => askRestore(v.version, ev.currentTarget) }, `Restore version ${v.version}`),
    " ",
    el("button", { type: "button", class: "secondary", onclick: () => { box.hidden = true; } }, "Close"));
  box.hidden = false;
  $("policy-view-title").focus();
}

function askRestore(version, button) {
  const now = policyVersions.find((x) => x.in_force);
  confirmBeside(button, `Put version ${version} back in force? Its rules replace those of version ${now ? now.version : "in force"} for every message from now on. Both stay in the list.`,
    `Yes, restore version ${version}`, () => restorePolicy(version), button.closest("td") ? $("policy-versions-box") : button);
}

async function restorePolicy(version) {
  const anchor = $("policy-versions-box");
  unsay(anchor);
  try {
    const done = await authed(session, "POST", `/v1/admin/moderation/policy/versions/${version}/restore`);
    await loadPolicyVersions();
    $("policy-view").hidden = true;
    say(anchor, "info", `Version ${version} is back in force, as version ${done.version}.`);
  } catch (e) {
    say(anchor, "error", e.message);
  }
}

// The box is marked invalid (and described by the server's reason) after a refusal, until
// other rules are in it.
function markValid() {
  $("policy").removeAttribute("aria-invalid");
  $("policy").removeAttribute("aria-describedby");
}

async function loadPolicyFile(input) {
  const form = $("policy-form");
  unsay(form);
  markValid();
  const f = input.files && input.files[0];
  if (!f) return;
  if (f.size > POLICY_MAX_BYTES) {
    form.hidden = false;
    say(form, "error", `${f.name} is larger than 1 MB: the server would refuse it.`);
    return;
  }
  $("policy").value = await f.text();
  form.hidden = false;
  say(form, "info", `${f.name} is in the box below the file: read it over, then put it in force.`);
  $("policy").focus();
}

async function editPolicy() {
  const form = $("policy-form");
  unsay(form);
  markValid();
  try {
    // TOML, not JSON: read as it is.
    const resp = await fetch("/v1/admin/moderation/policy", { headers: { Authorization: "Bearer " + (await session.token()) } });
    if (!resp.ok) throw new Error(`the rules could not be read (${resp.status})`);
    $("policy").value = await resp.text();
    form.hidden = false;
    $("policy").focus();
  } catch (e) {
    form.hidden = false;
    say(form, "error", e.message);
  }
}

// The server checks the rules and says what is wrong beside the form; the box is marked
// invalid and described by that message until the next try.
async function putPolicy() {
  const form = $("policy-form");
  const box = $("policy");
  unsay(form);
  markValid();
  const before = (policyVersions.find((v) => v.in_force) || { version: 0 }).version;
  try {
    const resp = await fetch("/v1/admin/moderation/policy", {
      method: "PUT",
      headers: { Authorization: "Bearer " + (await session.token()), "Content-Type": "application/toml" },
      body: box.value,
    });
    const answer = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(answer.error ? answer.error.message : `refused (${resp.status})`);
    await loadPolicyVersions();
    say(form, "info", answer.version === before
      ? `These are the rules in force already (version ${before}): nothing changed.`
      : `Version ${answer.version} is in force: every message is checked with it from now on.`);
  } catch (e) {
    const line = say(form, "error", e.message);
    box.setAttribute("aria-invalid", "true");
    box.setAttribute("aria-describedby", line.id);
  }
}

// The monitoring notice.

function buildNotice(section) {
  const form = el("form", { id: "notice-form" },
    el("label", { for: "notice-text" }, "New words (plain words, up to 2,000 characters)"),
    el("textarea", { id: "notice-text", maxlength: 2000, rows: 5, required: true }),
    el("button", { type: "submit" }, "Put in force"));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); putNotice(); });
  section.append(
    el("h2", {}, "Monitoring notice"),
    el("p", { class: "muted" }, "What young people are told at the start of a support chat about who reads their chats and how long they are kept. When the words change, each young person is shown the new version and asked to acknowledge it."),
    el("div", { id: "notice-versions-box" }),
    form);
}

let noticeVersions = [];

async function loadNotice() {
  noticeVersions = (await authed(session, "GET", "/v1/admin/monitoring-notice/versions")).versions;
  const words = (v) => el("details", { class: "words" }, el("summary", {}, `Read version ${v.version}`), el("p", { class: "body" }, v.body));
  $("notice-versions-box").replaceChildren(table("notice-versions", "Versions of the notice, newest first",
    ["Version", "Put in force", "By", "Note", "Now", "Words"], versionRows(noticeVersions, "the words that come with Talk Zone (version 1)", words), true));
  const now = noticeVersions.find((v) => v.in_force);
  if (now && !$("notice-text").value) $("notice-text").value = now.body;
}

async function putNotice() {
  const form = $("notice-form");
  unsay(form);
  const before = (noticeVersions.find((v) => v.in_force) || { version: 1 }).version;
  try {
    const done = await authed(session, "PUT", "/v1/admin/monitoring-notice", { text: $("notice-text").value });
    await loadNotice();
    say(form, "info", done.version === before
      ? `These are the words in force already (version ${before}): nothing changed.`
      : `Version ${done.version} is in force: young people are shown it at their next chat.`);
  } catch (e) {
    say(form, "error", e.message);
  }
}

// ---------------------------------------------------------------------------------------------
// What staff marked on moderation verdicts
// ---------------------------------------------------------------------------------------------

function buildMarks(section) {
  const exportLink = el("a", { id: "marks-export", href: "/v1/admin/verdict-marks/export", download: "talkzone-verdict-marks.jsonl" },
    "Download the marked messages (JSON Lines, for retraining)");
  exportLink.addEventListener("click", (ev) => { ev.preventDefault(); downloadMarks(); });
  section.append(
    el("h2", {}, "How well the moderation checks do"),
    el("p", {}, "Duty workers, supervisors and moderators can mark the automatic check on a message as having ",
      el("strong", {}, "missed"), " a risk (or rated it too low), or as having flagged one that is ", el("strong", {}, "not there"),
      ", and say what it should have been. Those messages are checked again here with the rules in force now, so after changing the rules you can see at once whether they catch what staff said was missed."),
    el("ul", {},
      el("li", {}, el("strong", {}, "Marked as it"), ": how many marked messages staff said should have the category."),
      el("li", {}, el("strong", {}, "Caught now"), ": of those, how many the rules flag with it now (and the share). Higher is better."),
      el("li", {}, el("strong", {}, "Flagged wrongly"), ": marked messages the rules flag with a category they should not have. Lower is better.")),
    el("p", { class: "muted" }, "Numbers only: no message is shown here. A mark is deleted with its message (retention, deletion, erasure)."),
    el("p", {}, el("button", { type: "button", id: "marks-refresh", class: "secondary" }, "Check again with the rules in force")),
    el("div", { id: "marks-report" }),
    el("h3", {}, "For retraining"),
    el("p", { id: "marks-export-row" }, exportLink),
    el("p", { class: "muted" }, "The download holds what young people wrote and is recorded in the audit log. Keep it on council systems only, and delete it once the messages have been reviewed for training."));
  $("marks-refresh").addEventListener("click", () => loadMarks().catch((e) => say($("marks-report"), "error", e.message)));
}

const percent = (x) => `${Math.round(x * 100)}%`;

async function loadMarks() {
  const r = await authed(session, "GET", "/v1/admin/verdict-marks/report");
  unsay($("marks-report"));
  if (!r.marks) {
    $("marks-report").replaceChildren(el("p", { id: "marks-none" }, "No marks yet: nothing to measure the rules against."));
    return;
  }
  // Short cells, so that the table fits a phone without scrolling sideways.
  const categories = r.categories.map((c) => [
    { th: categoryWords(c.category) },
    { num: String(c.should_have) },
    { num: c.recall === null || c.recall === undefined ? "—" : `${c.flagged} (${percent(c.recall)})` },
    { num: String(c.false_positives) },
  ]);
  const months = r.months.map((m) => [{ th: m.month }, { num: String(m.missed) }, { num: String(m.wrong) }, { num: String(m.missed + m.wrong) }]);
  $("marks-report").replaceChildren(
    el("p", { id: "marks-total" }, `${r.marks} mark${r.marks === 1 ? "" : "s"} on messages still kept.`),
    table("marks-categories", "Each category, with the rules in force now",
      ["Category", "Marked as it", "Caught now", "Flagged wrongly"], categories),
    el("p", { class: "muted" }, "“—”: no marked message should have that category, so there is nothing to measure."),
    table("marks-months", "Marks per month", ["Month", "Missed a risk", "Flagged one not there", "All"], months));
}

// The export needs the access token in a header: fetched here, then saved as a file.
async function downloadMarks() {
  const anchor = $("marks-export").parentElement;
  unsay(anchor);
  try {
    const resp = await fetch("/v1/admin/verdict-marks/export", { headers: { Authorization: "Bearer " + (await session.token()) } });
    if (!resp.ok) throw new Error(`the export could not be made (${resp.status})`);
    const link = el("a", { href: URL.createObjectURL(await resp.blob()), download: "talkzone-verdict-marks.jsonl", hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    say(anchor, "info", "Downloaded talkzone-verdict-marks.jsonl.");
  } catch (e) {
    say(anchor, "error", e.message);
  }
}

// ---------------------------------------------------------------------------------------------
// Start: the sections are built at once (hidden with the panels); the data is loaded when
// admin.js shows the panels, that is once a YOT admin is signed in.
// ---------------------------------------------------------------------------------------------

const TOOLS = [
  ["tool-canned-replies", buildCanned, loadCanned],
  ["tool-moderation-policy", buildPolicy, loadPolicyVersions],
  ["tool-verdict-marks", buildMarks, loadMarks],
  ["tool-monitoring-notice", buildNotice, loadNotice],
];

for (const [id, build] of TOOLS) if ($(id)) build($(id));
$("load-policy").addEventListener("click", editPolicy);

let started = false;
async function start() {
  if (started || $("panels").hidden) return;
  started = true;
  try {
    const staff = await authed(session, "GET", "/v1/admin/users");
    names = new Map(staff.accounts.map((a) => [a.id, a.display_name]));
  } catch (e) {
    names = new Map(); // "who" falls back to words; each tool still loads
  }
  for (const [id, , load] of TOOLS) {
    if (!$(id)) continue;
    try {
      await load();
    } catch (e) {
      say($(id).querySelector("h2"), "error", e.message);
    }
  }
}

new MutationObserver(start).observe($("panels"), { attributes: true, attributeFilter: ["hidden"] });
start();
