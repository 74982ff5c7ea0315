// The moderation queue in the console (moderators and supervisors): each item with its room,
// how long it has waited, the messages around it (read once per item), the text held or
// reported, and the decisions and actions on its sender, each answering beside the item.
import { authed, el, timeOf } from "./common.js";
import { say, riskBadge, waited } from "./console-ui.js";

const $ = (id) => document.getElementById(id);

// What a moderator may decide for each kind of item.
const DECISIONS = { hold: ["approve", "reject"], report: ["remove", "dismiss"] };
// What can be done about the person behind an item (support chats stay open whatever happens).
const USER_ACTIONS = [["warn", "Warn"], ["mute", "Mute 24 h", 86400], ["suspend", "Suspend"]];

export class ModerationList {
  constructor(desk) {
    this.desk = desk;
    this.contexts = new Map(); // item id -> the context list, fetched once
    setInterval(() => this.tick(), 30000);
  }

  // The watch sends every open item again: start from an empty list.
  reset() {
    $("moderation-items").replaceChildren();
    this.count();
  }

  render(item) {
    const existing = document.querySelector(`#moderation-items li[data-item-id="${CSS.escape(item.id)}"]`);
    const open = !item.decision || item.appeal_state === "requested";
    if (!open) {
      if (existing) existing.remove();
      this.count();
      return;
    }
    const reason = el("input", { class: "reason", maxlength: 1000, placeholder: "Reason (shown in the log)", "aria-label": "Reason for the decision" });
    const node = el("li", { class: "console-moderation" + (item.overdue ? " overdue" : ""), "data-item-id": item.id, "data-created-at": item.created_at },
      el("div", { class: "line" },
        riskBadge(item.severity),
        el("strong", {}, `${item.kind === "hold" ? "Held message" : "Report"}: ${item.reason.replaceAll("_", " ")}`),
        item.room_name ? el("span", {}, `in ${item.room_name}`) : null,
        el("span", { class: "console-waited" + (item.overdue ? " overdue" : "") }, `waiting ${waited(item.created_at)}`)),
      item.subject_user ? el("span", { class: "muted" }, "from " + item.subject_user.display_name) : null,
      this.context(item),
      item.evidence ? el("p", { class: "body evidence", "aria-label": "The message" }, item.evidence) : null,
      reason,
      (DECISIONS[item.kind] || []).map((action) =>
        el("button", { type: "button", "data-action": action, onclick: (ev) => this.decide(item.id, action, reason.value, ev.target) }, action)),
      item.subject_user
        ? USER_ACTIONS.map(([action, label, duration]) => el("button", { type: "button", class: "secondary", "data-user-action": action,
          onclick: (ev) => this.actOnUser(item.subject_user, action, duration, reason.value, ev.target) }, label))
        : null);
    if (existing) existing.replaceWith(node);
    else $("moderation-items").append(node);
    this.count();
  }

  // The messages around the item: what it answered and what followed, so the decision is
  // made on the conversation, not one line.
  context(item) {
    let list = this.contexts.get(item.id);
    if (!list) {
      list = el("ol", { class: "console-context", "aria-label": "Messages around it" }, el("li", { class: "muted" }, "Loading the conversation around it…"));
      this.contexts.set(item.id, list);
      authed(this.desk.session, "GET", `/v1/moderation/items/${encodeURIComponent(item.id)}/context`).then((ctx) => {
        list.replaceChildren(...ctx.messages.map((m) => el("li", { class: m.seq === ctx.seq ? "this" : "" },
          el("span", { class: "who" }, m.sender ? m.sender.display_name : "Talk Zone"),
          el("span", { class: "body" }, m.body),
          el("span", { class: "meta" }, timeOf(m.sent_at)))));
        if (item.kind === "hold") list.append(el("li", { class: "this" }, el("span", { class: "who" }, "held"), el("span", { class: "body" }, "(the message below, not delivered)")));
        if (!ctx.messages.length) list.replaceChildren(el("li", { class: "muted" }, "No messages around it to show."));
      }).catch((e) => list.replaceChildren(el("li", { class: "muted" }, `The conversation around it could not be read: ${e.message}`)));
    }
    return list;
  }

  count() {
    const n = document.querySelectorAll("#moderation-items li.console-moderation").length;
    $("moderation-count").textContent = n ? `(${n} to review)` : "(nothing to review)";
  }

  tick() {
    for (const li of document.querySelectorAll("#moderation-items li.console-moderation")) {
      const span = li.querySelector(".console-waited");
      if (span) span.textContent = `waiting ${waited(li.dataset.createdAt)}`;
    }
  }

  async actOnUser(user, action, duration, reason, button) {
    const anchor = button.closest("li");
    if (!reason.trim()) return say(anchor.querySelector("input.reason"), "Give a reason: it goes in the moderation log.");
    try {
      await authed(this.desk.session, "POST", `/v1/moderation/users/${encodeURIComponent(user.id)}/actions`,
        { action, reason: reason.trim(), duration_s: duration });
      say(anchor.querySelector("input.reason"), `${user.display_name}: ${action} done.`, "info");
    } catch (e) {
      say(anchor.querySelector("input.reason"), e.message);
    }
  }

  async decide(id, action, reason, button) {
    const path = `/v1/moderation/items/${encodeURIComponent(id)}`;
    try {
      await authed(this.desk.session, "POST", `${path}/claim`);
      this.render(await authed(this.desk.session, "POST", `${path}/decision`, { action, reason: reason.trim() || `${action} (console)` }));
      say($("moderation-title"), `Item decided: ${action}.`, "info");
    } catch (e) {
      const li = button.closest("li");
      say(li ? li.querySelector("input.reason") : $("moderation-title"), e.message);
    }
  }
}
