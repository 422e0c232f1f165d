// The caption client shared by the pages: one WebSocket per language, which
// reconnects by itself and resumes with ?since= so no final is lost.
"use strict";

const RTL = new Set(["ar", "he", "fa", "ur", "ps", "sd", "yi"]);
const NAMES = {
  source: "Floor (original)", en: "English", fr: "Français", es: "Español", de: "Deutsch",
  ru: "Русский", zh: "中文", ar: "العربية", km: "ខ្មែរ", ca: "Català", pt: "Português",
  it: "Italiano", gl: "Galego", ja: "日本語", ko: "한국어",
};

// Names (speaker, agenda item) as <bdi> nodes joined by " · ": each keeps its own
// direction, so an Arabic name cannot turn the line it stands in.
function isolatedNames(names) {
  return names.filter(Boolean).flatMap((name, i) => {
    const isolated = document.createElement("bdi");
    isolated.textContent = name;
    return i ? [" · ", isolated] : [isolated];
  });
}

function languageName(code) { return NAMES[code] || code; }
function isRtl(code) { return RTL.has(code); }

function wallClock(unixSeconds) {
  return new Date(unixSeconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// As the exports write it (interp.formats.clock): whole seconds, rounded once, so
// 59.6 s is 01:00, never 00:60; MM:SS, or H:MM:SS from the first hour.
function clock(seconds) {
  const total = Math.max(0, Math.round(seconds || 0));
  const h = Math.floor(total / 3600), m = Math.floor(total / 60) % 60, s = total % 60;
  const mmss = `${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
  return h ? `${h}:${mmss}` : mmss;
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
    this.partial = null; this.follow = true; this.lastHeard = null; this.session = null;
    container.addEventListener("scroll", () => {
      const atEnd = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
      this.follow = atEnd;
      if (liveButton) liveButton.classList.toggle("shown", !atEnd);
    });
    if (liveButton) liveButton.addEventListener("click", () => { this.follow = true; this.scroll(); liveButton.classList.remove("shown"); });
  }
  clear() { this.container.replaceChildren(); this.partial = null; this.lastHeard = null; this.session = null; }
  append(p) {
    if (this.partial) this.container.insertBefore(p, this.partial); else this.container.append(p);
  }
  note(className, text) {
    const p = document.createElement("p");
    p.className = `line note ${className}`; p.setAttribute("role", "note");
    p.textContent = text;
    return p;
  }
  // A reader who was away longer than the server keeps captions for is told so,
  // in place, instead of seeing two passages run together.
  gapLine(message) {
    // The server dates the gap's end; its start is the last line this page received.
    const heard = this.lastHeard || {};
    const fromWall = message.from_published_at || heard.published_at;
    const [from, to] = fromWall && message.published_at
      ? [wallClock(fromWall), wallClock(message.published_at)]
      : [clock(message.start ?? heard.end), clock(message.end)];
    return this.note("gap", from === to
      ? `Captions missed at ${from}: the archive keeps them.`
      : `Captions missed from ${from} to ${to}: the archive keeps them.`);
  }
  // Times restart at 00:00 in every session: a line marks where each starts and ends.
  sessionLine(message) {
    const at = message.wall_time || message.published_at;
    if (message.state === "ended") return this.note("session-end", `Session ended${at ? " at " + wallClock(at) : ""}.`);
    const title = message.title ? `${message.title}: ` : "";
    return this.note("session-start", `${title}session started${at ? " at " + wallClock(at) : ""}.`);
  }
  line(message, partial) {
    const p = document.createElement("p");
    p.className = partial ? "line partial" : "line final";
    p.lang = message.lang || "";
    // The line's direction is its language's, never guessed from its first letter,
    // which may be a speaker's name in another script.
    p.dir = message.lang ? (isRtl(message.lang) ? "rtl" : "ltr") : "auto";
    p.dataset.segment = message.segment || "";
    const meta = document.createElement("span");
    meta.className = "meta";
    const names = isolatedNames([message.speaker, message.agenda_item]);
    meta.append(clock(message.start), ...(names.length ? ["  ", ...names] : []));
    const text = document.createElement("span");
    text.className = "text";
    if (this.marker && !partial) this.marker(text, message.text, message.lang); else text.textContent = message.text;
    p.append(meta, text);
    return p;
  }
  show(message) {
    const newSession = message.session && this.session && message.session !== this.session;
    if (message.session) this.session = message.session;
    if (message.type === "session") {
      this.append(this.sessionLine(message));
      this.scroll();
      return;
    }
    if (newSession) this.append(this.note("session-start", "A new session started."));
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

// What the room offers: its caption languages without the floor's own (which
// "Floor (original)" already is), and whether a session runs.  Null: unreachable.
async function roomStatus() {
  try {
    const status = await (await fetch("/api/status")).json();
    const floor = status.floor_language;
    return { running: status.running, floor, languages: (status.languages || []).filter((l) => l !== floor) };
  } catch (error) { return null; }
}

async function sessionLanguages() {
  const status = await roomStatus();
  return status ? status.languages : [];
}

// The badge says what a reader needs: live, connected with no session running,
// reconnecting, or that a token is needed.  It follows the socket and the messages.
class LiveBadge {
  constructor(element) { this.element = element; this.socket = "connecting"; this.running = null; this.heard = 0; this.render(); }
  onSocket(state) {
    this.socket = state;
    if (state === "live") {
      // The room's word counts only if no message has told us more in the meantime.
      const before = this.heard;
      roomStatus().then((s) => { if (s && this.heard === before) { this.running = s.running; this.render(); } });
    }
    this.render();
  }
  onMessage(message) {
    this.heard += 1;
    if (message.type === "session") this.running = message.state !== "ended";
    else if (["partial", "final", "translation"].includes(message.type)) this.running = true;
    else if (message.type === "status" && typeof message.running === "boolean") this.running = message.running;
    else return;
    this.render();
  }
  render() {
    let [text, className] = stateLabel(this.socket);
    if (this.socket === "live" && this.running === false) [text, className] = ["connected · no session running", "state"];
    if (this.socket === "connecting") [text, className] = ["connecting…", "state"];
    this.element.textContent = text; this.element.className = className;
  }
}
