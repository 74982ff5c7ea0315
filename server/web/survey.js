// A feedback survey as a form, for young people (in the web chat) and parents and carers (the
// survey page, with an access code): faces for the emoji scale, buttons for yes/no and 0–10,
// choices, and free text. Answers are checked by the server; its message is shown as it is.
import { el, clientMsgId } from "./common.js";

const FACES = ["😞", "🙁", "😐", "🙂", "😀"];
const FACE_NAMES = ["very unhappy", "unhappy", "in between", "happy", "very happy"];

// `submit(request)` sends the request and returns the stored response; it may throw.
export function surveyForm(pending, submit, onDone) {
  const def = pending.survey.definition;
  const saved = new Map((pending.saved_answers || []).map((a) => [a.question_id, a.value]));
  const submissionId = clientMsgId();
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const fields = def.questions.map((q, i) => question(q, i, saved.get(q.id)));
  const form = el("form", { class: "survey" },
    el("h2", {}, def.title),
    def.intro ? el("p", {}, def.intro) : null,
    fields.map((f) => f.node),
    error,
    el("button", { type: "submit" }, "Send my answers"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const answers = [];
    for (const f of fields) {
      const value = f.value();
      if (value !== undefined) answers.push({ question_id: f.id, value });
    }
    try {
      // The same submission_id on a retry: the server keeps one response.
      await submit({ submission_id: submissionId, final: true, answers });
      form.replaceChildren(el("h2", {}, "Thank you"), el("p", {}, "Your answers have been sent."));
      if (onDone) onDone();
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });
  return form;
}

function question(q, index, saved) {
  const name = `q${index}`;
  const label = q.child_text || q.text;
  const legend = el("legend", {}, label + (q.required ? "" : " (optional)"));
  const radios = (choices) => choices.map(([value, text, title]) =>
    el("label", { class: "choice", title }, el("input", { type: "radio", name, value: JSON.stringify(value), checked: saved === value }), text));
  const picked = (node) => {
    const c = node.querySelector(`input[name="${name}"]:checked`);
    return c ? JSON.parse(c.value) : undefined;
  };
  let node;
  let value;
  switch (q.kind) {
    case "emoji_scale":
      node = el("fieldset", { "data-question": q.id }, legend, radios(FACES.map((f, i) => [i + 1, f, FACE_NAMES[i]])));
      value = () => picked(node);
      break;
    case "scale_0_10":
      node = el("fieldset", { "data-question": q.id }, legend, radios([...Array(11).keys()].map((n) => [n, String(n)])));
      value = () => picked(node);
      break;
    case "yes_no":
      node = el("fieldset", { "data-question": q.id }, legend, radios([[true, "Yes"], [false, "No"]]));
      value = () => picked(node);
      break;
    case "single_choice":
      node = el("fieldset", { "data-question": q.id }, legend, radios(q.options.map((o) => [o, o])));
      value = () => picked(node);
      break;
    case "multiple_choice": {
      const saved_ = Array.isArray(saved) ? saved : [];
      node = el("fieldset", { "data-question": q.id }, legend, q.options.map((o) =>
        el("label", { class: "choice" }, el("input", { type: "checkbox", value: o, checked: saved_.includes(o) }), o)));
      value = () => {
        const v = [...node.querySelectorAll("input:checked")].map((c) => c.value);
        return v.length ? v : undefined;
      };
      break;
    }
    default: {
      // A fieldset's legend does not name the box inside it: the question does, for screen readers.
      const area = el("textarea", { maxlength: q.max_length || 500, rows: 3, "aria-label": label });
      area.value = typeof saved === "string" ? saved : "";
      node = el("fieldset", { "data-question": q.id }, legend, area);
      value = () => (area.value.trim() ? area.value : undefined);
    }
  }
  return { id: q.id, node, value };
}
