// A supervisor's escalations as a worklist: which chat (the young person, the worker), how
// long is left to acknowledge (OVERDUE in red once past), the reason, what has been done;
// open the chat, acknowledge, record actions, resolve with an outcome. Each change from any
// supervisor arrives live; what a supervisor is typing in an item survives those updates.
import { authed, el, timeOf } from "./common.js";
import { say, riskBadge, clock, secondsUntil, personName } from "./console-ui.js";

const $ = (id) => document.getElementById(id);
const path = (id, rest = "") => `/v1/escalations/${encodeURIComponent(id)}${rest}`;

// The actions supervisors record most; "note" for anything else.
const ACTIONS = [
  ["called_999", "Called 999"],
  ["police", "Police informed"],
  ["mash_referral", "MASH referral"],
  ["children_social_care", "Children's social care"],
  ["parent_contacted", "Parent or carer contacted"],
  ["note", "Other (say in the note)"],
];

export class Escalations {
  // `desk`: { session, alerts, openChat(id) }.
  constructor(desk) {
    this.desk = desk;
    this.items = new Map(); // id -> the latest view
    this.ready = false; // alerts only for what arrives after the first load
    setInterval(() => this.tick(), 1000);
  }

  async load() {
    for (const state of ["open", "acknowledged"]) {
      const list = await authed(this.desk.session, "GET", `/v1/escalations?state=${state}`);
      for (const e of list.escalations) this.render(e, true);
    }
    this.ready = true;
    this.count();
  }

  // A new or changed escalation (a frame, or the answer to an action).
  render(e, quiet) {
    const before = this.items.get(e.id);
    if (!quiet && this.ready) {
      if (!before && e.state === "open") this.desk.alerts.newEscalation(e.severity, false);
      // Every step of its chain sounds again, until someone acknowledges it.
      else if (before && e.state === "open" && ((e.steps || 0) > (before.steps || 0) || (!before.reescalated && e.reescalated))) {
        this.desk.alerts.newEscalation(e.severity, true);
      }
    }
    let node = document.querySelector(`#escalations li[data-escalation-id="${CSS.escape(e.id)}"]`);
    if (e.state === "resolved") {
      this.items.delete(e.id);
      if (node) node.remove();
      this.count();
      return;
    }
    this.items.set(e.id, e);
    if (!node) {
      node = el("li", { "data-escalation-id": e.id, class: "console-escalation" }, el("div", { class: "summary" }), this.forms(e.id));
    }
    node.className = `console-escalation ${e.state}` + (this.overdue(e) ? " overdue" : "");
    node.querySelector(".summary").replaceChildren(...this.summary(e).filter(Boolean));
    node.querySelector("button[data-do=acknowledge]").hidden = e.state !== "open";
    this.place(node, e);
    this.count();
  }

  overdue(e) {
    return e.state === "open" && (e.overdue || secondsUntil(e.deadline_at) <= 0);
  }

  summary(e) {
    const chat = e.conversation_state === "closed" ? "chat closed"
      : e.worker ? `with ${e.worker.display_name}` : "waiting in the queue";
    return [
      el("div", { class: "line" },
        riskBadge(e.severity),
        el("strong", {}, personName(e.young_person)),
        el("span", {}, chat),
        this.deadline(e)),
      el("p", { class: "reason" }, e.reason),
      el("p", { class: "muted" },
        `${e.source === "moderation" ? "Raised automatically" : "Raised by a worker"} at ${timeOf(e.created_at)}`
        + (e.state === "acknowledged" ? ` · acknowledged at ${timeOf(e.acknowledged_at)}` : "")),
      e.actions.length
        ? el("ol", { class: "actions" }, ...e.actions.map((a) => el("li", {},
          `${timeOf(a.at)} ${a.action.replaceAll("_", " ")}` + (a.note ? `: ${a.note}` : ""))))
        : null,
    ];
  }

  deadline(e) {
    const attrs = { class: "console-deadline", "data-deadline": e.id };
    if (e.state !== "open") return el("span", attrs, e.state);
    const left = secondsUntil(e.deadline_at);
    if (left > 0) return el("span", attrs, `acknowledge within ${clock(left)}`);
    attrs.class += " overdue";
    return el("span", attrs, `OVERDUE by ${clock(-left)}`);
  }

  // The buttons and forms of an item, made once (so typing survives live updates).
  forms(id) {
    const row = el("div", { class: "row buttons" },
      el("button", { type: "button", "data-do": "open", onclick: () => this.open(id, row) }, "Open chat"),
      el("button", { type: "button", "data-do": "acknowledge", onclick: () => this.acknowledge(id, row) }, "Acknowledge"));
    // No action chosen for the supervisor: "called 999" recorded by accident is worse than none.
    const action = el("select", { "aria-label": "Action taken", required: true },
      el("option", { value: "" }, "Choose the action taken…"),
      ...ACTIONS.map(([value, label]) => el("option", { value }, label)));
    const note = el("input", { maxlength: 2000, placeholder: "Note (optional)", "aria-label": "Note on the action" });
    const actionForm = el("form", { class: "row", "data-form": "action" }, action, note,
      el("button", { type: "submit" }, "Record action"));
    actionForm.addEventListener("submit", (ev) => { ev.preventDefault(); this.record(id, actionForm, action, note); });
    const outcome = el("input", { maxlength: 2000, required: true, placeholder: "Outcome, e.g. referred to children's services", "aria-label": "Outcome" });
    const resolveForm = el("form", { class: "row", "data-form": "resolve" }, outcome,
      el("button", { type: "submit" }, "Resolve"));
    resolveForm.addEventListener("submit", (ev) => { ev.preventDefault(); this.resolve(id, resolveForm, outcome); });
    return el("div", { class: "forms" }, row, actionForm, resolveForm);
  }

  // Open first, the nearest deadline (or the most overdue) at the top; then acknowledged ones.
  place(node, e) {
    const key = (x) => (x.state === "open" ? 0 : 1e15) + new Date(x.state === "open" ? x.deadline_at : x.created_at).getTime() * (x.state === "open" ? 1 : -1);
    const list = $("escalations");
    const after = [...list.children].find((li) => {
      const other = this.items.get(li.dataset.escalationId);
      return other && li !== node && key(other) > key(e);
    });
    // Moved only when out of place: moving a node takes the focus out of what is typed in it.
    if (after) {
      if (node.nextElementSibling !== after) list.insertBefore(node, after);
    } else if (node.parentNode !== list || node.nextElementSibling) {
      list.append(node);
    }
  }

  count() {
    const open = [...this.items.values()].filter((e) => e.state === "open").length;
    const overdue = [...this.items.values()].filter((e) => this.overdue(e)).length;
    $("escalations-count").textContent = this.items.size
      ? `(${open} to acknowledge${overdue ? `, ${overdue} OVERDUE` : ""}, ${this.items.size - open} in hand)` : "(none open)";
    this.desk.alerts.set("escalations", open);
    this.desk.onCount && this.desk.onCount(open, overdue);
  }

  tick() {
    for (const e of this.items.values()) {
      const span = document.querySelector(`#escalations [data-deadline="${CSS.escape(e.id)}"]`);
      if (!span || e.state !== "open") continue;
      const fresh = this.deadline(e);
      span.className = fresh.className;
      span.textContent = fresh.textContent;
      span.closest("li.console-escalation").classList.toggle("overdue", this.overdue(e));
    }
  }

  async open(id, anchor) {
    const e = this.items.get(id);
    try {
      await this.desk.openChat(e.conversation_id);
    } catch (err) {
      say(anchor, err.message);
    }
  }

  async acknowledge(id, anchor) {
    try {
      this.render(await authed(this.desk.session, "POST", path(id, "/acknowledge")));
      say(anchor, "Acknowledged: it is yours.", "info");
    } catch (e) {
      say(anchor, e.message);
    }
  }

  async record(id, form, action, note) {
    try {
      const body = { action: action.value };
      if (note.value.trim()) body.note = note.value.trim();
      this.render(await authed(this.desk.session, "POST", path(id, "/actions"), body));
      note.value = "";
      say(form, "Action recorded.", "info");
    } catch (e) {
      say(form, e.message);
    }
  }

  async resolve(id, form, outcome) {
    try {
      this.render(await authed(this.desk.session, "POST", path(id, "/resolve"), { outcome: outcome.value.trim() }));
      say($("escalations-title"), "Escalation resolved.", "info");
    } catch (e) {
      say(form, e.message);
    }
  }
}
