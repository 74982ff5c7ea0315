// What makes a new chat or escalation impossible to miss: a chime (made with Web Audio, no
// file; a visible switch turns it off, remembered on this device), the count in the tab's
// title, a desktop notification when the worker allowed them (never a child's words: only
// "New chat waiting (high risk)"), a spoken announcement for screen readers, and a banner that
// stays at the top of the screen however far down the worker has scrolled.
import { riskWords } from "./console-ui.js";

const SOUND_KEY = "talkzone.console.sound";
const BASE_TITLE = document.title;

export class Alerts {
  constructor() {
    this.soundOn = localStorage.getItem(SOUND_KEY) !== "off";
    this.audio = null;
    this.counts = { waiting: 0, escalations: 0, unread: 0 };
    this.soundButton = document.getElementById("sound");
    this.notifyButton = document.getElementById("notify");
    this.soundButton.addEventListener("click", () => this.setSound(!this.soundOn));
    this.notifyButton.addEventListener("click", () => this.askToNotify());
    // Browsers start sound only after the person has pressed something: every press wakes it.
    document.addEventListener("pointerdown", () => this.wake(), { capture: true });
    document.addEventListener("keydown", () => this.wake(), { capture: true });
    this.showSound();
    this.showNotify();
  }

  setSound(on) {
    this.soundOn = on;
    localStorage.setItem(SOUND_KEY, on ? "on" : "off");
    this.showSound();
    if (on) this.chime("low");
  }

  showSound() {
    this.soundButton.setAttribute("aria-pressed", String(this.soundOn));
    this.soundButton.textContent = this.soundOn ? "Sound on" : "Sound off";
    this.soundButton.title = this.soundOn ? "Alert sounds are on: press to turn them off" : "Alert sounds are off: press to turn them on";
  }

  showNotify() {
    const b = this.notifyButton;
    if (!("Notification" in window)) {
      b.hidden = true;
      return;
    }
    const p = Notification.permission;
    b.hidden = false;
    b.disabled = p !== "default";
    b.textContent = p === "granted" ? "Desktop alerts on" : p === "denied" ? "Desktop alerts blocked" : "Turn on desktop alerts";
    b.title = p === "denied" ? "Allow notifications for this site in the browser's settings" : "";
  }

  async askToNotify() {
    if (!("Notification" in window)) return;
    try {
      await Notification.requestPermission();
    } catch (e) { /* an old browser's callback form: the state is read below either way */ }
    this.showNotify();
  }

  wake() {
    if (this.audio && this.audio.state === "suspended") this.audio.resume().catch(() => {});
  }

  // Two rising notes; three, louder and higher, for high or critical risk.
  chime(level) {
    if (!this.soundOn) return;
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      if (!this.audio) this.audio = new Ctx();
      this.wake();
      const urgent = level === "urgent";
      const notes = urgent ? [880, 1175, 1568] : level === "low" ? [660] : [660, 880];
      const start = this.audio.currentTime + 0.02;
      notes.forEach((freq, i) => {
        const osc = this.audio.createOscillator();
        const gain = this.audio.createGain();
        osc.type = "sine";
        osc.frequency.value = freq;
        const t = start + i * 0.18;
        gain.gain.setValueAtTime(0.0001, t);
        gain.gain.exponentialRampToValueAtTime(urgent ? 0.5 : 0.3, t + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.16);
        osc.connect(gain).connect(this.audio.destination);
        osc.start(t);
        osc.stop(t + 0.17);
      });
    } catch (e) { /* no sound device: the banner, title and notification still say it */ }
  }

  // A desktop notification, content-free. `tag` replaces an earlier one about the same thing.
  notify(text, tag, urgent) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try {
      const n = new Notification("Talk Zone", { body: text, tag, renotify: true, requireInteraction: Boolean(urgent) });
      n.onclick = () => { window.focus(); n.close(); };
    } catch (e) { /* some browsers allow notifications only from a service worker */ }
  }

  // Read out by screen readers: at once when urgent, after what is being read otherwise.
  announce(text, urgent) {
    const region = document.getElementById(urgent ? "announce-urgent" : "announce-polite");
    // Emptied first, so the same words said twice are read twice.
    region.textContent = "";
    setTimeout(() => { region.textContent = text; }, 50);
  }

  // Everything at once, for a new chat or a chat whose risk rose while waiting.
  newChat(risk, rose) {
    const serious = risk === "high" || risk === "critical";
    const what = rose ? `A waiting chat is now ${riskWords(risk)}` : `New chat waiting (${riskWords(risk)})`;
    this.chime(serious ? "urgent" : "normal");
    this.notify(what, "talkzone-queue", serious);
    this.announce(what + ".", serious);
  }

  // A chat given to this worker (auto-routing, a transfer): its clock is already running.
  given(risk, name) {
    const serious = risk === "high" || risk === "critical";
    this.chime(serious ? "urgent" : "normal");
    this.notify(`A chat has been given to you (${riskWords(risk)})`, "talkzone-given", true);
    this.announce(`A chat with ${name} has been given to you. Reply soon: the first-reply clock is running.`, true);
  }

  newEscalation(severity, overdue) {
    const what = overdue ? `Escalation OVERDUE (${severity})` : `New escalation (${severity})`;
    this.chime("urgent");
    this.notify(what, "talkzone-escalation", true);
    this.announce(what + ".", true);
  }

  // The counts behind the title and the banner; each part keeps its own.
  set(part, n) {
    this.counts[part] = n;
    const { waiting, escalations, unread } = this.counts;
    const parts = [];
    if (waiting) parts.push(`${waiting} waiting`);
    if (escalations) parts.push(`${escalations} escalation${escalations === 1 ? "" : "s"}`);
    if (unread) parts.push(`${unread} new`);
    document.title = parts.length ? `(${parts.join(" · ")}) ${BASE_TITLE}` : BASE_TITLE;
  }
}
