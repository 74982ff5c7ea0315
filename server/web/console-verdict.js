// "Verdict wrong?" on a message a young person sent: a small button that opens a short form
// (missed or wrong, the category and severity it should have had), sent to
// `POST /v1/messages/{id}/verdict-mark`, answered beside it. The marks become the set the YOT
// admin measures the moderation rules against (docs/moderation.md, "Learning from the
// service"). Out of the way of a worker chatting: one small button per message, nothing opens
// by itself, Escape closes the form.
import { authed, el, RISK_CATEGORIES, categoryWords } from "./common.js";
import { say, unsay } from "./console-ui.js";

const SEVERITIES = ["none", "low", "medium", "high", "critical"];
let made = 0;

// What the automatic check said about the message, in words.
function verdictWords(moderation) {
  if (!moderation || moderation.severity === "none") return "The check flagged nothing.";
  if (!moderation.labels.length) return `The check said: ${moderation.severity}.`;
  return `The check said: ${moderation.severity} (${moderation.labels.map(categoryWords).join(", ")}).`;
}

// What the check said about a held message, from its moderation item (its reason is the
// category when the check held it, or the room's rule, e.g. pre_moderation).
export function itemVerdict(item) {
  const category = RISK_CATEGORIES.some(([c]) => c === item.reason) ? [item.reason] : [];
  return { message_id: item.message_id, moderation: { severity: item.severity, labels: category } };
}

// Whether a message may be marked: a young person's, with a verdict the caller can see.
export function markable(m) {
  return Boolean(m && m.message_id && m.moderation && m.sender && m.sender.role === "young_person" && m.kind !== "system");
}

// The control for one message (`m`: a MessageView with `moderation`). `session`: the signed-in
// member of staff.
export function verdictControl(session, m) {
  const n = ++made;
  const box = el("div", { class: "verdict" });
  const toggle = el("button", { type: "button", class: "verdict-toggle", "aria-expanded": "false", "aria-controls": `verdict-form-${n}`,
    "data-verdict-for": m.message_id }, "Verdict wrong?");
  let form = null;
  const close = () => {
    if (form) form.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    toggle.focus();
  };
  toggle.addEventListener("click", () => {
    if (form && !form.hidden) return close();
    if (!form) {
      form = verdictForm(session, m, n, close, (done) => {
        toggle.textContent = "Verdict marked (change)";
        form.hidden = true;
        toggle.setAttribute("aria-expanded", "false");
        say(toggle, done, "info");
        toggle.focus(); // the form's button it had is hidden now
      });
      box.append(form);
    }
    unsay(toggle);
    form.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    form.querySelector("input").focus();
  });
  box.prepend(toggle);
  return box;
}

function verdictForm(session, m, n, close, done) {
  const kind = (value, words) => el("label", { class: "choice" },
    el("input", { type: "radio", name: `verdict-kind-${n}`, value, required: true }), words);
  const category = el("select", { id: `verdict-category-${n}`, required: true },
    el("option", { value: "" }, "Choose…"),
    el("option", { value: "none" }, "none: no risk at all"),
    ...RISK_CATEGORIES.map(([value, words]) => el("option", { value }, words)));
  const severity = el("select", { id: `verdict-severity-${n}`, required: true },
    el("option", { value: "" }, "Choose…"), ...SEVERITIES.map((s) => el("option", { value: s }, s)));
  // "No risk" has no severity, and a risk has one.
  category.addEventListener("change", () => {
    if (category.value === "none") severity.value = "none";
    else if (severity.value === "none") severity.value = "";
  });
  const send = el("button", { type: "submit" }, "Send the mark");
  const form = el("form", { id: `verdict-form-${n}`, class: "verdict-form", "aria-label": "Mark the moderation check on this message" },
    m.moderation ? el("p", { class: "muted" }, verdictWords(m.moderation)) : null,
    el("fieldset", {}, el("legend", {}, "The check on this message…"),
      kind("missed", "missed a risk (or rated it too low)"),
      kind("wrong", "saw a risk that is not there (or rated it too high)")),
    el("label", { for: category.id }, "It should have been"), category,
    el("label", { for: severity.id }, "At severity"), severity,
    el("div", { class: "verdict-buttons" }, send,
      el("button", { type: "button", class: "secondary", onclick: close }, "Cancel")));
  form.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") {
      ev.preventDefault();
      close();
    }
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    unsay(send.parentElement);
    const chosen = form.querySelector(`input[name="verdict-kind-${n}"]:checked`).value;
    try {
      await authed(session, "POST", `/v1/messages/${encodeURIComponent(m.message_id)}/verdict-mark`,
        { kind: chosen, category: category.value, severity: severity.value });
      const what = category.value === "none" ? "no risk" : `${categoryWords(category.value)}, ${severity.value}`;
      done(`Marked as ${chosen === "missed" ? "a missed risk" : "a wrong flag"}: should be ${what}. Thank you: the YOT uses these marks to check the rules.`);
    } catch (e) {
      say(send.parentElement, e.message);
    }
  });
  return form;
}
