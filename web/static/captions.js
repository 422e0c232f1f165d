// The caption client shared by the pages: one WebSocket per language, which
// reconnects by itself and resumes with ?since= so no final is lost.
"use strict";

const RTL = new Set(["ar", "he", "fa", "ur", "ps", "sd", "yi"]);
const NAMES = {
  source: "Floor (original)", en: "English", fr: "Français", es: "Español", de: "Deutsch",
  ru: "Русский", zh: "中文", ar: "العربية", km: "ខ្មែរ", ca: "Català", pt: "Português",
  it: "Italiano", gl: "Galego", ja: "日本語", ko: "한국어",
};

function languageName(code) { return NAMES[code] || code; }
function isRtl(code) { return RTL.has(code); }

function clock(seconds) {
  const s = Math.max(0, seconds || 0);
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, "0")}:${(s % 60).toFixed(0).padStart(2, "0")}`;
}

// Closed captions: the operator hands out a link ending in ?token=….  The token is
// kept for this tab only and taken out of the address bar, so it is neither shown
// on screen nor bookmarked; a browser WebSocket cannot send a header, so it goes
// as the first message.
function captionsToken() {
  const url = new URL(location.href);
  const given = url.searchParams.get("token");
  if (given) {
    sessionStorage.setItem("captions_token", given);
    url.searchParams.delete("token");
    history.replaceState(null, "", url);
  }
  return sessionStorage.getItem("captions_token") || "";
}
const CAPTIONS_TOKEN = captionsToken();
const UNAUTHORISED = 4401;

// What the state badge says: "live", "reconnecting", or "token" (closed captions
// and no valid token: reconnecting cannot help, so the page says what to do).
function stateLabel(state) {
  if (state === "live") return ["● live", "state live"];
  if (state === "token") return ["captions are closed: open the link with the captions token", "state alert"];
  return ["reconnecting…", "state"];
}

function captionSocket(lang, onMessage, onState) {
  let socket = null, lastSeq = null, session = null, delay = 500, stopped = false;
  function open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const since = lastSeq === null ? "" : `&since=${lastSeq}&session=${encodeURIComponent(session)}`;
    socket = new WebSocket(`${scheme}://${location.host}/ws/captions?lang=${encodeURIComponent(lang)}${since}`);
    socket.onopen = () => {
      if (CAPTIONS_TOKEN) socket.send(JSON.stringify({ token: CAPTIONS_TOKEN }));
      delay = 500; onState("live");
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.session && message.session !== session) { session = message.session; lastSeq = null; }
      if (typeof message.seq === "number") {
        if (lastSeq !== null && message.seq <= lastSeq) return;  // already shown
        lastSeq = message.seq;
      }
      onMessage(message);
    };
    socket.onclose = (event) => {
      if (stopped) return;
      if (event.code === UNAUTHORISED) { stopped = true; onState("token"); return; }
      onState("reconnecting");
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 5000);
    };
  }
  open();
  return { close() { stopped = true; if (socket) socket.close(); } };
}

// Renders finals (and the open partial) into a scrolling container; auto-scroll
// pauses while the reader looks back, and a button brings them back to live.
class CaptionView {
  constructor(container, liveButton, marker) {
    this.container = container; this.liveButton = liveButton; this.marker = marker || null;
    this.partial = null; this.follow = true; this.lastHeard = null;
    container.addEventListener("scroll", () => {
      const atEnd = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
      this.follow = atEnd;
      if (liveButton) liveButton.classList.toggle("shown", !atEnd);
    });
    if (liveButton) liveButton.addEventListener("click", () => { this.follow = true; this.scroll(); liveButton.classList.remove("shown"); });
  }
  clear() { this.container.replaceChildren(); this.partial = null; this.lastHeard = null; }
  append(p) {
    if (this.partial) this.container.insertBefore(p, this.partial); else this.container.append(p);
  }
  // A reader who was away longer than the server keeps captions for is told so,
  // in place, instead of seeing two passages run together.
  gapLine(message) {
    const p = document.createElement("p");
    p.className = "line gap"; p.setAttribute("role", "note");
    const wall = (t) => new Date(t * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    // The server dates the gap's end; its start is the last line this page received.
    const heard = this.lastHeard || {};
    const fromWall = message.from_published_at || heard.published_at;
    const [from, to] = fromWall && message.published_at
      ? [wall(fromWall), wall(message.published_at)]
      : [clock(message.start ?? heard.end), clock(message.end)];
    p.textContent = from === to
      ? `Captions missed at ${from}: the archive keeps them.`
      : `Captions missed from ${from} to ${to}: the archive keeps them.`;
    return p;
  }
  line(message, partial) {
    const p = document.createElement("p");
    p.className = partial ? "line partial" : "line final";
    p.lang = message.lang || "";
    p.dir = isRtl(message.lang) ? "rtl" : "auto";
    p.dataset.segment = message.segment || "";
    const who = [message.speaker, message.agenda_item].filter(Boolean).join(" · ");
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = `${clock(message.start)}${who ? "  " + who : ""}`;
    const text = document.createElement("span");
    text.className = "text";
    if (this.marker && !partial) this.marker(text, message.text, message.lang); else text.textContent = message.text;
    p.append(meta, text);
    return p;
  }
  show(message) {
    if (message.type === "partial") {
      const p = this.line(message, true);
      if (this.partial) this.partial.replaceWith(p); else this.container.append(p);
      this.partial = p;
    } else if (message.type === "final" || message.type === "translation") {
      this.lastHeard = message;
      const p = this.line(message, false);
      const sameSegment = this.partial && this.partial.dataset.segment === message.segment;
      if (sameSegment) { this.partial.replaceWith(p); this.partial = null; }
      else this.append(p);
      while (this.container.children.length > 400) this.container.firstElementChild.remove();
    } else if (message.type === "gap") {
      this.append(this.gapLine(message));
    } else return;
    this.scroll();
  }
  scroll() { if (this.follow) this.container.scrollTop = this.container.scrollHeight; }
}

function applyPreferences() {
  const theme = localStorage.getItem("theme") || "dark";
  document.documentElement.dataset.theme = theme;
  const size = Number(localStorage.getItem("size") || 32);
  document.documentElement.style.setProperty("--size", `${size}px`);
  return { theme, size };
}

async function sessionLanguages() {
  try {
    const response = await fetch("/api/status");
    const status = await response.json();
    return status.languages || [];
  } catch (error) { return []; }
}
