// The service report on the admin page (docs/reports.md): a period, the figures as tables,
// and for each breakdown an SVG bar chart with its table beside it (the table is the
// accessible reading; the chart is an image with a title that says what it shows). Withheld
// numbers are shown as "withheld" and drawn as an empty dashed bar, as the API withholds
// them; a report withheld whole says why. The CSV is the same report, from the API.
import { Session, authed, el, categoryWords } from "./common.js";

const $ = (id) => document.getElementById(id);
const session = new Session("talkzone.admin");
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

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
}

function unsay(anchor) {
  const line = anchor.nextElementSibling;
  if (line && line.classList.contains("form-message")) line.hidden = true;
}

const shown = (c) => (c.suppressed || c.value === null ? "withheld" : String(c.value));
const secs = (v) => (v === null || v === undefined ? "withheld" : duration(v));
function duration(s) {
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

let chartCount = 0;
// A horizontal bar chart of `rows` ([label, count or null]), titled `title`.
function chart(title, rows) {
  const id = `sr-chart-${++chartCount}`;
  const rowH = 22, labelW = 150, barMax = 200, h = rows.length * rowH + 8;
  const max = Math.max(1, ...rows.map(([, n]) => n ?? 0));
  const out = svg("svg", { viewBox: `0 0 ${labelW + barMax + 60} ${h}`, role: "img", "aria-labelledby": id, class: "bar-chart" },
    svg("title", { id }, `${title} (the numbers are in the table beside)`));
  rows.forEach(([label, n], i) => {
    const y = 4 + i * rowH;
    const t = svg("text", { x: 0, y: y + 15 });
    t.textContent = label;
    out.append(t);
    if (n === null) {
      out.append(svg("rect", { x: labelW, y, width: 40, height: 16, fill: "none", stroke: "#595959", "stroke-dasharray": "4 3" }));
      const w = svg("text", { x: labelW + 46, y: y + 13 });
      w.textContent = "withheld";
      out.append(w);
    } else {
      const w = Math.max(1, Math.round((n / max) * barMax));
      out.append(svg("rect", { x: labelW, y, width: w, height: 16, fill: "#3b6ea5" }));
      const v = svg("text", { x: labelW + w + 6, y: y + 13 });
      v.textContent = String(n);
      out.append(v);
    }
  });
  return out;
}

function table(caption, head, rows) {
  return el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    el("table", {},
      el("caption", {}, caption),
      el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...rows.map(([label, value]) => el("tr", {}, el("th", { scope: "row" }, label), el("td", { class: "num" }, value))))));
}

// A breakdown: its chart and its table, side by side (stacked on a phone).
function breakdown(title, cells, words = (l) => l) {
  const rows = cells.map((c) => [words(c.label), c.suppressed ? null : c.count]);
  return el("figure", { class: "chart-with-table" },
    chart(title, rows),
    table(title, ["", "count"], rows.map(([l, n]) => [l, n === null ? "withheld" : String(n)])));
}

const WEEKDAYS = { mon: "Monday", tue: "Tuesday", wed: "Wednesday", thu: "Thursday", fri: "Friday", sat: "Saturday", sun: "Sunday" };
const words = (s) => s.replaceAll("_", " ");

function render(r) {
  const out = $("service-report");
  const head = el("h3", {}, `From ${r.from} to ${r.to}`);
  if (r.suppressed) {
    out.replaceChildren(head, el("p", { class: "withheld", id: "service-report-withheld" }, "Withheld: " + r.suppression_reason));
    return;
  }
  const summary = table("Chats and young people", ["", "number"], [
    ["contacts", shown(r.contacts)], ["answered", shown(r.answered)], ["abandoned before an answer", shown(r.abandoned)],
    ["closed", shown(r.closed)], ["transferred", shown(r.transfers)], ["young people", shown(r.young_people)],
    ["first time", shown(r.first_time)], ["returning", shown(r.returning)],
  ]);
  const times = table("Times (median, 90th percentile)", ["", "time"], [
    ["queue wait, median", secs(r.queue_wait_median_seconds)], ["queue wait, 90th percentile", secs(r.queue_wait_p90_seconds)],
    ["first reply, median", secs(r.first_reply_median_seconds)], ["first reply, 90th percentile", secs(r.first_reply_p90_seconds)],
    ["chat length, median", secs(r.chat_length_median_seconds)], ["abandoned after, median", secs(r.abandoned_after_median_seconds)],
  ]);
  const esc = el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Escalations by severity" },
    el("table", {}, el("caption", {}, "Escalations by severity"),
      el("thead", {}, el("tr", {}, ...["severity", "raised", "acknowledged", "overdue", "resolved", "to acknowledge", "to resolve"]
        .map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...r.escalations.map((e) => el("tr", {}, el("th", { scope: "row" }, e.severity),
        ...[shown(e.raised), shown(e.acknowledged), shown(e.overdue), shown(e.resolved),
          secs(e.acknowledge_median_seconds), secs(e.resolve_median_seconds)].map((v) => el("td", { class: "num" }, v)))))));
  const m = r.moderation;
  const moderation = table("Moderation queue", ["", "number"], [
    ["items", shown(m.items)], ["decided", shown(m.decided)], ["time to decision, median", secs(m.decision_median_seconds)],
  ]);
  const risks = r.risk_categories.map((c) => ({ label: c.category, count: c.chats.value, suppressed: c.chats.suppressed }));
  out.replaceChildren(head, summary, times,
    breakdown("Contacts by hour (UTC)", r.contacts_by_hour),
    breakdown("Contacts by day of the week", r.contacts_by_weekday, (l) => WEEKDAYS[l] || l),
    breakdown("Outcomes of closed chats", r.outcomes, words),
    esc, moderation,
    breakdown("Moderation decisions", m.decisions),
    breakdown("Chats with a risk detected, by category", risks, categoryWords));
}

async function show() {
  const form = $("service-report-form");
  unsay(form);
  try {
    const q = new URLSearchParams({ from: $("sr-from").value, to: $("sr-to").value });
    render(await authed(session, "GET", `/v1/admin/service-report?${q}`));
  } catch (e) {
    say(form, "error", e.message);
  }
}

// The CSV and the summary document need the access token in a header, so they are fetched
// and saved from the page.
async function download(route, what, name) {
  const form = $("service-report-form");
  unsay(form);
  try {
    const q = new URLSearchParams({ from: $("sr-from").value, to: $("sr-to").value });
    const resp = await fetch(`${route}?${q}`, { headers: { Authorization: "Bearer " + (await session.token()) } });
    if (!resp.ok) throw new Error(`the ${what} could not be made (${resp.status})`);
    const link = el("a", { href: URL.createObjectURL(await resp.blob()), download: name(q.get("from"), q.get("to")) });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (e) {
    say(form, "error", e.message);
  }
}

const csv = () => download("/v1/admin/service-report.csv", "CSV", (f, t) => `talkzone-service-report-${f}-${t}.csv`);
// One printable page for a committee or a board: these figures and the surveys' distance
// travelled over the same days (the YOT admin's alone).
const summary = () => download("/v1/admin/service-summary", "summary document", (f, t) => `talk-zone-summary-${f}-${t}.html`);

function build(section) {
  const today = new Date().toISOString().slice(0, 10);
  const weekAgo = new Date(Date.now() - 6 * 86400000).toISOString().slice(0, 10);
  const form = el("form", { id: "service-report-form" },
    el("label", { for: "sr-from" }, "From (UTC day)"), el("input", { id: "sr-from", type: "date", required: "", value: weekAgo }),
    el("label", { for: "sr-to" }, "To (UTC day, at most a year later)"), el("input", { id: "sr-to", type: "date", required: "", value: today }),
    el("button", { type: "submit" }, "Show"),
    el("button", { type: "button", id: "sr-csv", class: "secondary" }, "CSV"),
    el("button", { type: "button", id: "sr-summary", class: "secondary" }, "Summary document"));
  section.replaceChildren(el("h2", {}, "Service report"),
    el("p", { class: "muted" }, "What the service did over a period. Numbers under the threshold are withheld, and so is a " +
      "report that could be subtracted from one already shown to reveal a small group: then widen or change the period."),
    form, el("div", { id: "service-report", "aria-live": "polite" }));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); show(); });
  $("sr-csv").addEventListener("click", csv);
  $("sr-summary").addEventListener("click", summary);
}

if ($("tool-service-report")) build($("tool-service-report"));
