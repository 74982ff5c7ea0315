// Small pieces the console's parts share: messages beside the action they answer, risk badges
// in colour and words, and times as a tired worker reads them ("4 min", "1:23").
import { el } from "./common.js";

// A message right beside `anchor` (a form, a list item, a button's row), there until it is
// dismissed or replaced by the next one for that place. Problems are announced at once
// (role=alert); confirmations politely (role=status).
export function say(anchor, text, kind = "error") {
  if (!anchor) return null;
  const next = anchor.nextElementSibling;
  if (next && next.classList.contains("console-say")) next.remove();
  const line = el("p", { class: `console-say ${kind}`, role: kind === "error" ? "alert" : "status" },
    el("span", {}, text),
    el("button", { type: "button", class: "dismiss", "aria-label": "Dismiss this message", onclick: () => line.remove() }, "×"));
  anchor.after(line);
  return line;
}

// Clears what `say` put beside `anchor` (the action was tried again and worked).
export function unsay(anchor) {
  const next = anchor && anchor.nextElementSibling;
  if (next && next.classList.contains("console-say")) next.remove();
}

const RISK_WORDS = {
  critical: "CRITICAL risk",
  high: "HIGH risk",
  medium: "medium risk",
  low: "low risk",
  none: "no risk flagged",
};

// A risk as a badge: its colour and its words, so neither colour nor text alone carries it.
export function riskBadge(risk, extra) {
  const r = RISK_WORDS[risk] ? risk : "none";
  return el("span", { class: `console-risk risk-${r}`, "data-risk": r }, RISK_WORDS[r] + (extra || ""));
}

export function riskWords(risk) {
  return RISK_WORDS[risk] || RISK_WORDS.none;
}

// How serious a risk is, for ordering and for what raises an alert.
export const RISK_RANK = { none: 0, low: 1, medium: 2, high: 3, critical: 4 };

// "just now", "1 min", "14 min", "2 h 5 min" since an RFC 3339 time.
export function waited(iso, now = Date.now()) {
  const mins = Math.floor(Math.max(0, now - new Date(iso).getTime()) / 60000);
  if (mins < 1) return "under 1 min";
  if (mins < 60) return `${mins} min`;
  return `${Math.floor(mins / 60)} h ${mins % 60} min`;
}

// "1:23" for a number of seconds (negative as the time since).
export function clock(seconds) {
  const s = Math.abs(Math.round(seconds));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const mm = h ? String(m % 60).padStart(2, "0") : String(m);
  return (h ? `${h}:` : "") + `${mm}:${String(s % 60).padStart(2, "0")}`;
}

// Seconds from now until an RFC 3339 time (negative once it has passed).
export function secondsUntil(iso, now = Date.now()) {
  return (new Date(iso).getTime() - now) / 1000;
}

// An inline confirmation in place of `window.confirm` (which stops the page, and every alert
// with it): `question` with a yes and a no button after `anchor`; `onYes` runs on yes.
export function confirmInline(anchor, question, yesLabel, onYes) {
  unsay(anchor);
  const box = el("div", { class: "console-confirm", role: "alertdialog", "aria-label": question });
  const no = el("button", { type: "button", class: "secondary", "data-confirm": "no", onclick: () => { box.remove(); anchor.querySelector("button")?.focus(); } }, "Cancel");
  const yes = el("button", { type: "button", class: "danger-solid", "data-confirm": "yes", onclick: () => { box.remove(); onYes(); } }, yesLabel);
  box.append(el("p", {}, question), yes, no);
  box.addEventListener("keydown", (ev) => { if (ev.key === "Escape") no.click(); });
  const old = anchor.nextElementSibling;
  if (old && old.classList.contains("console-confirm")) old.remove();
  anchor.after(box);
  no.focus();
  return box;
}

export function personName(user, fallback = "Young person") {
  return user && user.display_name ? user.display_name : fallback;
}
