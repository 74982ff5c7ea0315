// Parents and carers answer with the access code the YOT gave them. The code travels in a
// header, never in the address, so it stays out of logs and history.
import { call } from "./common.js";
import { surveyForm } from "./survey.js";

const $ = (id) => document.getElementById(id);

$("code-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const code = { "X-Access-Code": $("code").value.trim() };
  try {
    const pending = await call("GET", "/v1/survey-access", null, undefined, code);
    $("code-step").hidden = true;
    $("error").hidden = true;
    if (pending.status === "completed") {
      $("survey").textContent = "These answers have already been sent. Thank you.";
      return;
    }
    $("survey").replaceChildren(surveyForm(pending, (req) => call("POST", "/v1/survey-access/responses", null, req, code)));
  } catch (e) {
    $("error").textContent = e.status === 401 ? "That code didn't work. Check it and try again."
      : e.status === 403 ? "That code has expired. Ask the Youth Offending Team for a new one." : e.message;
    $("error").hidden = false;
  }
});
