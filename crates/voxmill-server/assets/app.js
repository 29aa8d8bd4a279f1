// The voxmill web UI: one page over the HTTP API (/api/v1), hash-routed, no framework and no build step.
//
//   #/                    projects
//   #/p/NAME              the project: upload, recordings and their stages, settings
//   #/p/NAME/run          run the pipeline, with live progress from the project's Server-Sent Events
//   #/p/NAME/clips?…      review clips: play, waveform, edit transcripts, accept and reject (keyboard shortcuts)
//   #/p/NAME/speakers     rename, merge and unmerge speakers
//   #/p/NAME/stats        charts of the dataset
//   #/p/NAME/export       dataset archives and transcripts to download
//   #/p/NAME/training     voice training runs (started with `voxmill train`): progress, stop
//
// Every text from the server goes into the page as text (textContent, attributes), never as HTML.
"use strict";

// ---------------------------------------------------------------------------------------------------------------
// DOM helpers and formatting

/** Makes an element: `props` are attributes, except text, class, testid, dataset, style, on<event> and a few
 *  properties (value, checked, disabled, hidden, selected); children are nodes or strings (as text). */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "class") node.className = value;
    else if (key === "testid") node.dataset.testid = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "style") Object.assign(node.style, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (["value", "checked", "disabled", "hidden", "selected", "multiple"].includes(key)) node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

/** Replaces a node's children (null, undefined and false are left out, as in el()). */
function fill(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

/** 83.4 → "1:23"; 4000 → "1:06:40". */
function clock(secs) {
  if (secs === null || secs === undefined || !Number.isFinite(secs)) return "–";
  const s = Math.max(0, Math.round(secs));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return `${h ? h + ":" : ""}${mm}:${String(r).padStart(2, "0")}`;
}

/** A length of time for people: "4.2 s", "12.5 min", "3.25 h". */
function span(secs) {
  if (!Number.isFinite(secs)) return "–";
  if (secs < 60) return `${secs.toFixed(1)} s`;
  if (secs < 3600) return `${(secs / 60).toFixed(1)} min`;
  return `${(secs / 3600).toFixed(2)} h`;
}

function plural(n, one, many = one + "s") {
  return `${n} ${n === 1 ? one : many}`;
}

/** A measure for people: whole above 100, else three significant digits. */
function round(v) {
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(3)));
}

/** Runs `fn` at most once per `ms`, after the last call. */
function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A progress bar (0..1, or null for "unknown"). */
function bar(fraction, testid, label) {
  const fill = el("span", { class: "bar-fill" });
  const node = el("span", { class: "bar", role: "progressbar", "aria-label": label, "aria-valuemin": 0,
    "aria-valuemax": 100, testid }, fill);
  setBar(node, fraction);
  return node;
}

function setBar(node, fraction) {
  const fill = node.firstChild;
  if (fraction === null || fraction === undefined) {
    node.classList.add("indeterminate");
    node.removeAttribute("aria-valuenow");
    fill.style.width = "100%";
    return;
  }
  const pct = Math.max(0, Math.min(100, fraction * 100));
  node.classList.remove("indeterminate");
  node.setAttribute("aria-valuenow", Math.round(pct));
  fill.style.width = `${pct}%`;
}

/** A table in a box that scrolls sideways on narrow screens (the page itself never does). A heading is its text,
 *  or [text, class] ("num" for right-aligned numbers). */
function table(testid, headings, rows, caption) {
  return el("div", { class: "table-wrap" },
    el("table", { testid },
      caption ? el("caption", { class: "sr-only", text: caption }) : null,
      el("thead", {}, el("tr", {}, headings.map((h) => {
        const [text, cls] = Array.isArray(h) ? h : [h, null];
        return el("th", { scope: "col", class: cls, text });
      }))),
      el("tbody", {}, rows)));
}

// ---------------------------------------------------------------------------------------------------------------
// The token, the API and messages

const TOKEN_KEY = "voxmill.token";

/** A server off loopback opens the page as /?token=T: keep T for this tab and take it out of the address bar. */
function captureToken() {
  const url = new URL(location.href);
  const given = url.searchParams.get("token");
  if (!given) return;
  sessionStorage.setItem(TOKEN_KEY, given);
  url.searchParams.delete("token");
  history.replaceState(null, "", url.pathname + url.search + url.hash);
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

/** URLs the browser fetches by itself (audio, downloads, events) carry the token in the query. */
function withToken(url) {
  const t = token();
  if (!t || /[?&]token=/.test(url)) return url;
  return `${url}${url.includes("?") ? "&" : "?"}token=${encodeURIComponent(t)}`;
}

function authHeaders() {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

class ApiError extends Error {
  constructor(status, body) {
    super(body.error || `error ${status}`);
    this.status = status;
    this.code = body.code || "";
    this.hint = body.hint || "";
  }
}

/** `/projects/NAME`, escaped for a path. */
const P = (project) => `/projects/${encodeURIComponent(project)}`;

/** Calls the API: JSON in and out, the token added; a JSON error becomes a visible message (unless `quiet`) and
 *  an ApiError thrown; 401 asks for the token. */
async function api(path, { method = "GET", body, quiet = false } = {}) {
  const headers = { Accept: "application/json", ...authHeaders() };
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, init);
  } catch (e) {
    const error = new ApiError(0, { error: "the server cannot be reached", hint: "is `voxmill serve` still running?" });
    if (!quiet) showError(error);
    throw error;
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data && data.error ? data : { error: `${response.status} ${response.statusText}`, hint: text.slice(0, 200) });
    if (response.status === 401) askForToken(error);
    else if (!quiet) showError(error);
    throw error;
  }
  return data;
}

/** Shows an error (and its hint) above the page until closed or the next view. */
function showError(error) {
  const banner = $("#banner");
  fill(banner,
    el("div", { class: "banner-text" },
      el("strong", { testid: "error-message", text: error.message || String(error) }),
      error.hint ? el("span", { class: "hint", testid: "error-hint", text: error.hint }) : null),
    el("button", { type: "button", class: "plain", "aria-label": "Dismiss the message", testid: "error-close",
      text: "×", onclick: clearError }));
  banner.hidden = false;
}

function clearError() {
  $("#banner").hidden = true;
}

let toastTimer = null;

/** A short message that goes away by itself. */
function toast(message, ...extra) {
  const box = $("#toast");
  fill(box, el("span", { text: message }), ...extra);
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

/** Runs an action from a button: disabled meanwhile; errors are already shown by api(). */
async function act(button, fn) {
  if (button) button.disabled = true;
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof ApiError)) showError(e);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

/** The form that asks for the server's token (after a 401). */
function askForToken(error) {
  if ($("[data-testid=token-form]")) return;
  const input = el("input", { id: "token", type: "password", autocomplete: "off", required: true, testid: "token-input",
    "aria-describedby": "token-why" });
  const form = el("form", { class: "card token-form", testid: "token-form" },
    el("h2", { text: "This server needs its token" }),
    el("p", { id: "token-why", class: "muted", text: token()
      ? "The token this page has was not accepted. Paste the one voxmill serve printed."
      : "Open the address voxmill serve printed (it carries the token), or paste the token here." }),
    el("label", { for: "token", text: "Token (printed by voxmill serve)" }),
    el("div", { class: "row" }, input, el("button", { type: "submit", class: "primary", testid: "token-submit", text: "Use this token" })));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    live.detach();
    render();
  });
  $("#main").replaceChildren(form);
  input.focus();
}

// ---------------------------------------------------------------------------------------------------------------
// Live run state: one EventSource per open project, reconnected when it drops

/** The pipeline's stages in order (the API's maps are alphabetical). */
const STAGES = ["standardize", "enhance", "vad", "transcribe", "diarize", "identify", "segment", "validate", "qualify", "phonemize"];

/** Rough shares of a run's time per stage, for the progress bar and the ETA (transcription dominates). */
const STAGE_WEIGHT = { standardize: 1, enhance: 1, vad: 1, transcribe: 8, diarize: 3, identify: 1, segment: 1, validate: 2, qualify: 4, phonemize: 1 };

const EVENTS = ["run_state", "run_started", "stage_started", "stage_progress", "stage_finished", "stage_skipped",
  "stage_failed", "stage_blocked", "input_added", "input_duplicate", "input_failed", "input_ignored",
  "download_started", "download_finished", "feed_checked", "feed_failed", "summary", "lagged"];

const ACTIVE = ["queued", "running"];

const live = {
  project: null,
  source: null,
  connected: false,
  opened: false,
  retry: 0,
  retryTimer: null,
  /** The newest run of the project (a RunRecord from the API, updated by events). */
  run: null,
  /** What this run's events said of each stage of each recording: "rec\0stage" → {state, done, total, elapsed, error}. */
  cells: new Map(),
  /** Recordings the run's events named, in order. */
  named: [],
  /** Recent events, for the run view's log. */
  log: [],
  /** Progress at the first look at this run, for the ETA: {fraction, at}. */
  baseline: null,

  attach(project) {
    if (this.project === project) return;
    this.detach();
    this.project = project;
    this.connect();
    this.sync();
  },

  detach() {
    if (this.source) this.source.close();
    clearTimeout(this.retryTimer);
    Object.assign(this, { project: null, source: null, connected: false, opened: false, retry: 0, run: null, named: [], log: [], baseline: null });
    this.cells = new Map();
  },

  connect() {
    const project = this.project;
    const source = new EventSource(withToken(`/api/v1${P(project)}/events`));
    this.source = source;
    source.addEventListener("open", () => {
      this.connected = true;
      if (this.opened) this.sync(); // back after a drop: catch up with what was missed
      this.opened = true;
      this.retry = 0;
      this.changed("connection");
    });
    source.addEventListener("error", () => {
      this.connected = false;
      this.changed("connection");
      if (source.readyState === EventSource.CLOSED && this.project === project) {
        // The browser gave up (the server went away or refused): try again, more slowly each time.
        source.close();
        const wait = Math.min(15000, 1000 * 2 ** this.retry++);
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => {
          if (this.project === project) {
            this.opened = true;
            this.connect();
          }
        }, wait);
      }
    });
    for (const name of EVENTS) {
      source.addEventListener(name, (message) => {
        let data = {};
        try {
          data = JSON.parse(message.data);
        } catch {
          return;
        }
        this.receive(name, data);
      });
    }
  },

  /** Reads the newest run from the API (on opening a project, after a reconnect or lost events). */
  async sync() {
    const project = this.project;
    let runs;
    try {
      runs = await api(`${P(project)}/runs`, { quiet: true });
    } catch {
      return;
    }
    if (this.project !== project) return;
    const newest = runs.items[0] || null;
    if (!newest || !this.run || newest.id !== this.run.id) this.startTracking(newest);
    else this.run = newest;
    this.changed("sync");
  },

  startTracking(record) {
    this.run = record;
    this.cells = new Map();
    this.named = [];
    this.baseline = null;
  },

  cell(recording, stage) {
    const key = `${recording}\0${stage}`;
    if (!this.cells.has(key)) this.cells.set(key, { state: "pending" });
    if (!this.named.includes(recording)) this.named.push(recording);
    return this.cells.get(key);
  },

  receive(name, data) {
    if (name === "lagged") {
      this.sync();
      return;
    }
    // A newer run, or any run starting (run ids begin again at 1 when the server restarts): follow it.
    const starting = name === "run_state" && ACTIVE.includes(data.state);
    if (data.run !== undefined && (!this.run || data.run > this.run.id || (starting && data.run !== this.run.id))) {
      this.startTracking({ id: data.run, state: "running", progress: {}, errors: [], created_at: Date.now() / 1000, started_at: Date.now() / 1000 });
      this.refreshRun();
    }
    const run = this.run;
    if (!run || (data.run !== undefined && data.run !== run.id)) return;
    this.log.push({ name, data, at: new Date() });
    if (this.log.length > 200) this.log.shift();
    const p = run.progress || (run.progress = {});
    switch (name) {
      case "run_state":
        Object.assign(run, { state: data.state, exit_code: data.exit_code, error: data.error, some_failed: data.some_failed });
        if (data.state === "running" && !run.started_at) run.started_at = Date.now() / 1000;
        if (!ACTIVE.includes(data.state)) {
          run.finished_at = run.finished_at || Date.now() / 1000;
          // A stage still "running" when the run ends did not finish: show the recording's stored state instead.
          for (const [key, cell] of this.cells) if (cell.state === "running") this.cells.delete(key);
          this.refreshRun().then(() => this.ended());
        }
        break;
      case "run_started":
        p.recordings = data.recordings;
        p.audio_secs = data.total_secs;
        break;
      case "stage_started":
        Object.assign(this.cell(data.recording, data.stage), { state: "running", done: 0, total: data.total_secs });
        Object.assign(p, { stage: data.stage, recording: data.recording, done_secs: 0, total_secs: data.total_secs });
        break;
      case "stage_progress":
        Object.assign(this.cell(data.recording, data.stage), { state: "running", done: data.done_secs });
        Object.assign(p, { stage: data.stage, recording: data.recording, done_secs: data.done_secs });
        break;
      case "stage_finished":
        Object.assign(this.cell(data.recording, data.stage), { state: "done", elapsed: data.elapsed_secs });
        p.stages_finished = (p.stages_finished || 0) + 1;
        break;
      case "stage_skipped":
        Object.assign(this.cell(data.recording, data.stage), { state: "done", skipped: true });
        p.stages_finished = (p.stages_finished || 0) + 1;
        break;
      case "stage_failed":
        Object.assign(this.cell(data.recording, data.stage), { state: "failed", error: data.error });
        (run.errors || (run.errors = [])).push(data);
        break;
      case "stage_blocked":
        Object.assign(this.cell(data.recording, data.stage), { state: "blocked", error: `waits for ${data.by}` });
        break;
      case "input_failed":
      case "feed_failed":
        (run.errors || (run.errors = [])).push(data);
        break;
      case "summary":
        if (data.summary === "run" || !run.summary) run.summary = data;
        break;
      default:
        break;
    }
    this.changed(name, data);
  },

  async refreshRun() {
    const project = this.project;
    const id = this.run && this.run.id;
    if (!id) return;
    try {
      const record = await api(`${P(project)}/runs/${id}`, { quiet: true });
      if (this.project === project && this.run && this.run.id === id) {
        // Keep what events added and the record lacks.
        this.run = { ...record, summary: record.summary || this.run.summary };
      }
    } catch {
      // the next event or sync tells
    }
    this.changed("run");
  },

  ended() {
    const run = this.run;
    if (!run) return;
    const how = run.state === "done" ? (run.some_failed ? "finished, with failures" : "finished") : run.state;
    toast(`Run ${run.id} ${how}.`);
    if (current.onRunEnd) current.onRunEnd();
  },

  active() {
    return Boolean(this.run && ACTIVE.includes(this.run.state));
  },

  changed(name, data) {
    updateTabs();
    if (current.update) current.update(name, data);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Routing

/** The view on screen: what it wants told of live events, keys and leaving. */
let current = {};

const VIEWS = {
  "": { title: "Recordings", render: viewRecordings },
  run: { title: "Run", render: viewRun },
  clips: { title: "Clips", render: viewClips },
  speakers: { title: "Speakers", render: viewSpeakers },
  stats: { title: "Stats", render: viewStats },
  export: { title: "Export", render: viewExport },
  training: { title: "Training", render: viewTraining },
};

function parseHash() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query = ""] = hash.split("?");
  const parts = path.split("/").filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { parts, query: new URLSearchParams(query) };
}

function projectHash(project, tab = "", query = "") {
  return `#/p/${encodeURIComponent(project)}${tab ? "/" + tab : ""}${query ? "?" + query : ""}`;
}

async function render() {
  if (current.cleanup) current.cleanup();
  current = {};
  clearError();
  const { parts, query } = parseHash();
  const root = el("section", { class: "view" });
  $("#main").replaceChildren(root);
  try {
    if (parts[0] !== "p" || !parts[1]) {
      live.detach();
      setCrumb(null);
      renderTabs(null);
      document.title = "voxmill";
      await viewProjects(root);
      return;
    }
    const project = parts[1];
    const tab = parts[2] || "";
    const view = VIEWS[tab];
    live.attach(project);
    setCrumb(project);
    renderTabs(project, tab);
    if (!view) {
      root.append(el("p", { text: "There is no such page. " }, el("a", { href: projectHash(project), text: "Back to the project" })));
      return;
    }
    document.title = `${view.title} · ${project} · voxmill`;
    await view.render(root, project, query);
  } catch (e) {
    if (!(e instanceof ApiError)) showError(e);
    if (root.isConnected && !root.childElementCount) {
      root.append(el("p", { class: "muted", testid: "view-error", text: "This view could not be loaded." }));
    }
  }
}

function setCrumb(project) {
  const crumb = $("#crumb");
  crumb.replaceChildren();
  if (project) crumb.append("/ ", el("a", { href: projectHash(project), text: project, testid: "crumb-project" }));
}

function renderTabs(project, tab) {
  const nav = $("#tabs");
  nav.hidden = !project;
  if (!project) {
    nav.replaceChildren();
    return;
  }
  const links = Object.entries(VIEWS).map(([key, view]) => {
    const current = key === tab;
    return el("a", { href: projectHash(project, key), class: current ? "tab current" : "tab", testid: `nav-${key || "recordings"}`,
      "aria-current": current ? "page" : null }, view.title, key === "run" ? el("span", { class: "live-dot", id: "live-dot", "aria-hidden": "true" }) : null);
  });
  fill(nav, ...links);
  updateTabs();
}

/** The Run tab's dot: pulsing while a run goes on. */
function updateTabs() {
  const dot = $("#live-dot");
  if (!dot) return;
  dot.classList.toggle("on", live.active());
  dot.title = live.active() ? `run ${live.run.id} ${live.run.state}` : "";
}

// ---------------------------------------------------------------------------------------------------------------
// Projects

async function viewProjects(root) {
  const data = await api("/projects");
  if (!root.isConnected) return;
  root.append(el("h1", { text: "Projects" }),
    el("p", { class: "muted", text: "A project holds recordings and the clips voxmill cuts from them: add recordings, run the pipeline, review the clips, export a dataset." }));
  if (data.can_create) root.append(createProjectForm());
  if (!data.items.length) {
    root.append(el("p", { class: "empty", testid: "projects-empty", text: "No projects yet. Create one, then add recordings to it." }));
    return;
  }
  const rows = data.items.map((p) => el("tr", { testid: "project-row", dataset: { name: p.name } },
    el("td", {}, el("a", { href: projectHash(p.name), testid: "project-link", text: p.name }),
      p.busy ? el("span", { class: "badge running", text: "running" }) : null),
    el("td", { class: "num", text: p.recordings }),
    el("td", { class: "num", text: span(p.audio_secs) }),
    el("td", { class: "num", text: p.clips }),
    el("td", { class: "num", text: span(p.clip_secs) }),
    el("td", { class: "num", text: p.accepted }),
    el("td", {}, el("button", { type: "button", class: "small danger", testid: "project-delete", "aria-label": `Delete ${p.name}`,
      text: "Delete", disabled: p.busy || !data.can_create, onclick: (e) => deleteProject(e.currentTarget, p.name) }))));
  root.append(table("projects-table", ["Project", ["Recordings", "num"], ["Audio", "num"], ["Clips", "num"], ["Clip time", "num"], ["Accepted", "num"], ""], rows, "Projects"));
}

function createProjectForm() {
  const input = el("input", { id: "new-project", name: "name", required: true, placeholder: "e.g. interviews", autocomplete: "off",
    pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]*", title: "Letters, digits, dots, dashes and underscores", testid: "project-name" });
  const button = el("button", { type: "submit", class: "primary", testid: "project-create", text: "Create project" });
  const form = el("form", { class: "card inline-form", testid: "project-form" },
    el("label", { for: "new-project", text: "New project" }), el("div", { class: "row" }, input, button));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = input.value.trim();
    const made = await act(button, () => api("/projects", { method: "POST", body: { name } }));
    if (made) location.hash = projectHash(made.name || name);
  });
  return form;
}

async function deleteProject(button, name) {
  if (!confirm(`Delete the project ${name} with all its recordings, clips and exports? This cannot be undone.`)) return;
  const done = await act(button, () => api(P(name), { method: "DELETE" }));
  if (done !== undefined) {
    toast(`Deleted ${name}.`);
    render();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A project: upload and recordings

async function viewRecordings(root, project) {
  const [summary, recordings] = await Promise.all([api(P(project)), api(`${P(project)}/recordings`)]);
  if (!root.isConnected) return;
  const counts = el("p", { class: "counts", testid: "project-counts" });
  const showCounts = (s) => fill(counts,
    `${plural(s.recordings, "recording")} (${span(s.audio_secs)}) · ${plural(s.clips, "clip")} (${span(s.clip_secs)}) · ${s.accepted} accepted`);
  showCounts(summary);
  const tableBox = el("div", { testid: "recordings" });
  const showRecordings = (list) => fill(tableBox, recordingsTable(project, list, () => refresh().catch(() => {})));
  showRecordings(recordings);
  const refresh = async () => {
    const [s, r] = await Promise.all([api(P(project), { quiet: true }), api(`${P(project)}/recordings`, { quiet: true })]);
    if (!root.isConnected) return;
    showCounts(s);
    showRecordings(r);
  };
  root.append(
    el("h1", { text: project }),
    counts,
    uploadBox(project, refresh),
    el("div", { class: "section-head" },
      el("h2", { text: "Recordings" }),
      el("a", { class: "button primary", href: projectHash(project, "run"), testid: "go-run", text: "Run the pipeline →" })),
    tableBox,
    settingsEditor(project));
  current.onRunEnd = () => refresh().catch(() => {});
}

function uploadBox(project, refresh) {
  const input = el("input", { type: "file", id: "upload-input", multiple: true, testid: "upload-input",
    accept: "audio/*,video/*,.mp3,.wav,.flac,.m4a,.ogg,.opus,.webm,.mp4,.mkv,.aac" });
  const list = el("ul", { class: "uploads", testid: "upload-list", "aria-live": "polite" });
  const zone = el("div", { class: "dropzone", testid: "dropzone" },
    el("p", { class: "drop-title", text: "Drop audio or video files here" }),
    el("p", { class: "muted" }, el("label", { for: "upload-input", text: "or choose files: " }), input),
    el("p", { class: "muted small", text: "Each file is uploaded on its own and checked by the server; the same audio twice is recognised." }));
  const start = (files) => {
    if (!files.length) return;
    uploadAll(project, Array.from(files), list).then(refresh).catch(() => {});
    input.value = "";
  };
  input.addEventListener("change", () => start(input.files));
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    start(e.dataTransfer.files);
  });
  return el("section", { class: "card", "aria-labelledby": "upload-title" }, el("h2", { id: "upload-title", text: "Add recordings" }), zone, list);
}

/** Uploads files two at a time, each with its own request and progress bar. */
async function uploadAll(project, files, list) {
  const items = files.map((file) => uploadItem(file, list));
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      await uploadFile(project, files[i], items[i]);
    }
  };
  await Promise.all([worker(), worker()]);
}

function uploadItem(file, list) {
  const progress = bar(0, "upload-progress", `Uploading ${file.name}`);
  const status = el("span", { class: "upload-status", testid: "upload-status", text: "waiting" });
  const item = el("li", { class: "upload", testid: "upload-item", dataset: { state: "waiting" } },
    el("span", { class: "upload-name", text: file.name }), el("span", { class: "muted small", text: `${(file.size / 1048576).toFixed(1)} MB` }),
    progress, status);
  list.prepend(item);
  return {
    progress(f) {
      item.dataset.state = "uploading";
      setBar(progress, f);
      status.textContent = f < 1 ? `${Math.round(f * 100)}%` : "checking the audio…";
    },
    finish(state, text) {
      item.dataset.state = state;
      item.classList.add(state);
      setBar(progress, 1);
      status.textContent = text;
    },
  };
}

function uploadFile(project, file, item) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1${P(project)}/recordings`);
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => item.progress(e.lengthComputable ? e.loaded / e.total : 0.5);
    xhr.onload = () => {
      let data = {};
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = { error: `${xhr.status} ${xhr.statusText}` };
      }
      if (xhr.status === 401) askForToken(new ApiError(401, data));
      if (xhr.status >= 400) {
        item.finish("failed", `failed: ${data.error || xhr.status}${data.hint ? " — " + data.hint : ""}`);
      } else if (data.added && data.added.length) {
        const a = data.added[0];
        item.finish("added", `added as ${a.recording} (${clock(a.duration_secs)})`);
      } else if (data.duplicates && data.duplicates.length) {
        item.finish("duplicate", `already here, as ${data.duplicates[0].existing}`);
      } else if (data.failed && data.failed.length) {
        item.finish("failed", `failed: ${data.failed[0].error}`);
      } else {
        item.finish("failed", "the server kept nothing");
      }
      resolve();
    };
    xhr.onerror = () => {
      item.finish("failed", "failed: the upload was interrupted (is the server running?)");
      resolve();
    };
    const form = new FormData();
    form.append("file", file, file.name);
    item.progress(0);
    xhr.send(form);
  });
}

/** The stages of a recording as small badges, in pipeline order. */
function stageBadges(stages) {
  const names = [...STAGES.filter((s) => s in stages), ...Object.keys(stages).filter((s) => !STAGES.includes(s))];
  return el("span", { class: "badges" }, names.map((name) => {
    const s = stages[name];
    return el("span", { class: `badge ${s.state}`, testid: "stage-badge", dataset: { stage: name, state: s.state },
      title: `${name}: ${s.state}${s.reason ? " — " + s.reason : ""}`, text: name });
  }));
}

/** Runs the pipeline on one recording only, then shows the run. */
async function runOne(button, project, recording) {
  const record = await act(button, () => api(`${P(project)}/runs`, { method: "POST", body: { recordings: [recording] } }));
  if (!record) return;
  live.startTracking(record);
  location.hash = projectHash(project, "run");
}

async function removeRecording(button, project, recording, refresh) {
  if (!confirm(`Remove ${recording} and everything made from it (its clips, transcripts, reviews)?`)) return;
  const done = await act(button, () => api(`${P(project)}/recordings/${encodeURIComponent(recording)}`, { method: "DELETE" }));
  if (done) {
    toast(`Removed ${recording} (${plural(done.clips || 0, "clip")}).`);
    refresh();
  }
}

function recordingsTable(project, list, refresh) {
  if (!list.items.length) return el("p", { class: "empty", testid: "recordings-empty", text: "No recordings yet: add some above." });
  const rows = list.items.map((r) => el("tr", { testid: "recording-row", dataset: { name: r.name } },
    el("td", {}, el("div", { class: "strong", text: r.name }),
      r.title && r.title !== r.name ? el("div", { class: "muted small", text: r.title }) : null,
      /^https?:\/\//i.test(r.url || "") ? el("a", { class: "small", href: r.url, rel: "noopener noreferrer", target: "_blank", text: "source" }) : null,
      r.licence ? el("span", { class: "muted small", text: ` ${r.licence}` }) : null),
    el("td", { class: "num", text: clock(r.duration_secs) }),
    el("td", { class: "small nowrap", text: [r.codec, r.sample_rate ? `${r.sample_rate / 1000} kHz` : null, r.channels ? plural(r.channels, "ch", "ch") : null].filter(Boolean).join(" · ") }),
    el("td", {}, stageBadges(r.stages)),
    el("td", {}, el("div", { class: "inline-buttons" },
      el("button", { type: "button", class: "small", testid: "recording-run", text: "Run", title: "Run the pipeline on this recording only",
        "aria-label": `Run the pipeline on ${r.name} only`, onclick: (e) => runOne(e.currentTarget, project, r.name) }),
      el("button", { type: "button", class: "small danger", testid: "recording-remove", text: "Remove", "aria-label": `Remove ${r.name}`,
        onclick: (e) => removeRecording(e.currentTarget, project, r.name, refresh) })))));
  return table("recordings-table", ["Recording", ["Length", "num"], "Format", "Stages", ""], rows, "Recordings");
}

function settingsEditor(project) {
  const area = el("textarea", { id: "settings-text", rows: 18, spellcheck: "false", testid: "settings-text" });
  const save = el("button", { type: "button", class: "primary", testid: "settings-save", text: "Save settings" });
  const box = el("details", { class: "card settings" },
    el("summary", { text: "Settings (voxmill.toml)" }),
    el("p", { class: "muted small", text: "The project's settings, checked by the server before they are saved. The next run redoes what they change." }),
    el("label", { for: "settings-text", class: "sr-only", text: "voxmill.toml" }), area, el("div", { class: "row" }, save));
  box.addEventListener("toggle", async () => {
    if (box.open && !area.value) {
      const data = await api(`${P(project)}/settings`).catch(() => null);
      if (data) area.value = data.toml;
    }
  });
  save.addEventListener("click", async () => {
    const done = await act(save, () => api(`${P(project)}/settings`, { method: "PUT", body: { toml: area.value } }));
    if (done) toast("Settings saved.");
  });
  return box;
}

// ---------------------------------------------------------------------------------------------------------------
// Run

async function viewRun(root, project) {
  let recordings = await api(`${P(project)}/recordings`);
  const runs = await api(`${P(project)}/runs`);
  if (!root.isConnected) return;
  const newest = runs.items[0] || null;
  if (!newest || !live.run || live.run.id !== newest.id) live.startTracking(newest);
  else live.run = { ...newest, summary: newest.summary || live.run.summary };

  const start = el("button", { type: "button", class: "primary", testid: "run-start", text: "Run" });
  const cancel = el("button", { type: "button", class: "danger", testid: "run-cancel", text: "Cancel", hidden: true });
  const state = el("span", { class: "badge", testid: "run-state", text: "no run yet" });
  const elapsed = el("span", { testid: "run-elapsed" });
  const eta = el("span", { testid: "run-eta" });
  const overall = bar(0, "run-progress", "Progress of the run");
  const now = el("p", { class: "muted small", testid: "run-current" });
  const connection = el("span", { class: "muted small", testid: "run-connection" });
  const tableBox = el("div", { testid: "run-rows" });
  const errors = el("div", { testid: "run-errors" });
  const summary = el("div", { testid: "run-summary" });
  const logList = el("ol", { class: "log", testid: "run-log" });
  const history = el("div", { testid: "run-history" });
  let cells = new Map();

  root.append(
    el("h1", { text: "Run the pipeline" }),
    el("p", { class: "muted", text: "A run works through every recording, stage by stage, and picks up where the last one stopped. Runs already done are not redone." }),
    el("div", { class: "card run-head" },
      el("div", { class: "row" }, start, cancel, el("span", {}, "State: ", state), el("span", {}, "Elapsed: ", elapsed), el("span", {}, "ETA: ", eta), connection),
      overall, now),
    tableBox, errors, summary,
    el("details", { class: "card" }, el("summary", { text: "Event log" }), logList),
    el("h2", { text: "Runs since the server started" }), history);

  const stagesOf = () => {
    const seen = new Set();
    for (const r of recordings.items) for (const s of Object.keys(r.stages)) seen.add(s);
    for (const key of live.cells.keys()) seen.add(key.split("\0")[1]);
    return [...STAGES.filter((s) => seen.has(s)), ...[...seen].filter((s) => !STAGES.includes(s))];
  };

  /** What a cell shows: the run's events first, else the recording's stored state. */
  const cellState = (recording, stage) => {
    const fromRun = live.cells.get(`${recording}\0${stage}`);
    if (fromRun) return fromRun;
    const r = recordings.items.find((x) => x.name === recording);
    const s = r && r.stages[stage];
    return s ? { state: s.state, error: s.reason } : { state: "pending" };
  };

  const drawCell = (td, recording, stage) => {
    const c = cellState(recording, stage);
    const fraction = c.state === "done" ? 1 : c.state === "running" ? (c.total ? (c.done || 0) / c.total : null) : 0;
    const text = c.state === "running" ? (c.total ? `${Math.round(100 * fraction)}%` : "…")
      : c.state === "done" ? (c.skipped ? "✓" : c.elapsed !== undefined ? `✓ ${c.elapsed.toFixed(1)} s` : "✓")
      : c.state === "failed" ? "✗ failed" : c.state === "blocked" ? "blocked" : c.state === "stale" ? "stale" : "–";
    td.className = `stage-cell ${c.state}`;
    td.dataset.state = c.state;
    td.title = `${stage}: ${c.state}${c.error ? " — " + c.error : ""}`;
    fill(td, bar(fraction, null, `${stage} of ${recording}`), el("span", { class: "small", text }));
  };

  const rowsOf = () => {
    const names = recordings.items.map((r) => r.name);
    for (const n of live.named) if (!names.includes(n)) names.push(n);
    return names;
  };

  const drawTable = () => {
    const stages = stagesOf();
    cells = new Map();
    const names = rowsOf();
    if (!names.length) {
      fill(tableBox, el("p", { class: "empty", text: "No recordings yet: add some on the project page first." },
        " ", el("a", { href: projectHash(project), text: "Add recordings" })));
      return;
    }
    const rows = names.map((name) => el("tr", { testid: "run-row", dataset: { recording: name } },
      el("th", { scope: "row", class: "strong", text: name }),
      stages.map((stage) => {
        const td = el("td", { testid: "run-cell", dataset: { stage } });
        cells.set(`${name}\0${stage}`, td);
        drawCell(td, name, stage);
        return td;
      })));
    fill(tableBox, table("run-table", ["Recording", ...stages], rows, "Stages of each recording"));
  };

  /** The share of the work done, weighted by each recording's length. */
  const fraction = () => {
    const stages = stagesOf();
    let done = 0, all = 0;
    for (const name of rowsOf()) {
      const r = recordings.items.find((x) => x.name === name);
      const length = (r && r.duration_secs) || 1;
      for (const stage of stages) {
        const c = cellState(name, stage);
        const weight = length * (STAGE_WEIGHT[stage] || 1);
        all += weight;
        if (["done", "failed", "blocked"].includes(c.state)) done += weight;
        else if (c.state === "running" && c.total) done += weight * Math.min(1, (c.done || 0) / c.total);
      }
    }
    return all ? done / all : 0;
  };

  const drawHead = () => {
    const run = live.run;
    const active = live.active();
    start.disabled = active;
    start.textContent = active ? "Running…" : run ? "Run again" : "Run";
    cancel.hidden = !active;
    connection.textContent = live.connected ? "● live" : "○ reconnecting…";
    connection.classList.toggle("ok", live.connected);
    if (!run) {
      state.textContent = "no run yet";
      state.className = "badge";
      setBar(overall, 0);
      elapsed.textContent = eta.textContent = "–";
      now.textContent = "";
      return;
    }
    state.textContent = run.state;
    state.className = `badge ${run.state}`;
    state.dataset.run = run.id;
    const begun = run.started_at || run.created_at;
    const end = run.finished_at || (active ? Date.now() / 1000 : null);
    elapsed.textContent = begun && end ? clock(end - begun) : "–";
    const f = run.state === "done" ? 1 : fraction();
    setBar(overall, f);
    if (active) {
      if (!live.baseline && run.state === "running") live.baseline = { fraction: f, at: Date.now() };
      const b = live.baseline;
      const secs = b ? (Date.now() - b.at) / 1000 : 0;
      const rate = b && secs > 3 ? (f - b.fraction) / secs : 0;
      eta.textContent = rate > 0 ? `about ${clock((1 - f) / rate)}` : "estimating…";
      const p = run.progress || {};
      now.textContent = run.state === "queued" ? "Waiting for the run before it to end." :
        p.stage ? `Now: ${p.stage} of ${p.recording}${p.total_secs ? ` — ${clock(p.done_secs)} of ${clock(p.total_secs)}` : ""}` : "Starting…";
    } else {
      eta.textContent = "–";
      now.textContent = run.state === "done" ? (run.some_failed ? "Finished; some stages failed (below)." : "Finished.") : run.state === "failed" ? "The run failed." : run.state === "cancelled" ? "Cancelled; the next run resumes where it stopped." : "";
    }
  };

  const drawErrors = () => {
    const run = live.run;
    const list = [];
    if (run && run.error) list.push(el("li", { text: run.error }));
    for (const e of (run && run.errors) || []) {
      list.push(el("li", {}, el("strong", { text: [e.stage, e.recording || e.path || e.url].filter(Boolean).join(" · ") }), ": ", e.error || e.reason || JSON.stringify(e)));
    }
    const failures = run && run.summary && Array.isArray(run.summary.failures) ? run.summary.failures : [];
    for (const f of failures) {
      if (typeof f === "string") list.push(el("li", { text: f }));
      else list.push(el("li", { text: Object.values(f).filter((v) => typeof v !== "object").join(" · ") }));
    }
    fill(errors, ...(list.length ? [el("h2", { text: "Errors" }), el("ul", { class: "errors" }, list)] : []));
  };

  const drawSummary = () => {
    const s = live.run && live.run.summary;
    if (!s || live.active()) {
      summary.replaceChildren();
      return;
    }
    const facts = Object.entries(s).filter(([k, v]) => !["event", "summary", "run", "project"].includes(k) && (typeof v === "number" || typeof v === "string"));
    fill(summary, el("h2", { text: "Summary" }),
      el("dl", { class: "facts" }, facts.map(([k, v]) => [el("dt", { text: k.replace(/_/g, " ") }), el("dd", { text: typeof v === "number" ? round(v) : v })])));
  };

  const drawLog = () => {
    fill(logList, ...live.log.slice(-60).reverse().map((e) => el("li", {},
      el("span", { class: "muted", text: e.at.toLocaleTimeString() }), " ", el("strong", { text: e.name }), " ",
      [e.data.stage, e.data.recording, e.data.state, e.data.path, e.data.url, e.data.error].filter(Boolean).join(" · "))));
  };

  const drawHistory = async () => {
    const list = await api(`${P(project)}/runs`, { quiet: true }).catch(() => null);
    if (!list || !root.isConnected) return;
    if (!list.items.length) {
      fill(history, el("p", { class: "muted", text: "None yet." }));
      return;
    }
    fill(history, table("run-history-table", ["Run", "State", "Started", "Took", "Exit"], list.items.map((r) => el("tr", {},
      el("td", { text: r.id }), el("td", {}, el("span", { class: `badge ${r.state}`, text: r.state })),
      el("td", { text: new Date((r.started_at || r.created_at) * 1000).toLocaleTimeString() }),
      el("td", { text: r.finished_at && r.started_at ? clock(r.finished_at - r.started_at) : "–" }),
      el("td", { text: r.exit_code ?? "–" })))));
  };

  const drawAll = () => {
    drawTable();
    drawHead();
    drawErrors();
    drawSummary();
    drawLog();
  };
  drawAll();
  drawHistory();

  start.addEventListener("click", async () => {
    const record = await act(start, () => api(`${P(project)}/runs`, { method: "POST" }));
    if (record) {
      if (!live.run || live.run.id < record.id) live.startTracking(record);
      drawAll();
      drawHistory();
    }
  });
  cancel.addEventListener("click", async () => {
    if (!live.run) return;
    const record = await act(cancel, () => api(`${P(project)}/runs/${live.run.id}/cancel`, { method: "POST" }));
    if (record) toast(`Cancelling run ${record.id}…`);
  });

  const tick = setInterval(drawHead, 1000);
  current.cleanup = () => clearInterval(tick);
  current.update = (name, data) => {
    if (!root.isConnected) return;
    if (data && data.recording && data.stage && cells.has(`${data.recording}\0${data.stage}`)) {
      drawCell(cells.get(`${data.recording}\0${data.stage}`), data.recording, data.stage);
    } else if (name !== "connection") {
      drawTable();
    }
    drawHead();
    drawErrors();
    drawSummary();
    drawLog();
    if (name === "run_state") drawHistory();
  };
  current.onRunEnd = async () => {
    const fresh = await api(`${P(project)}/recordings`, { quiet: true }).catch(() => null);
    if (fresh && root.isConnected) {
      recordings = fresh;
      drawAll();
      drawHistory();
    }
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Clips: review

const PAGE = 50;

async function viewClips(root, project, query) {
  const filters = {
    speaker: query.get("speaker") || "",
    recording: query.get("recording") || "",
    verdict: query.get("verdict") || "",
    reason: query.get("reason") || "",
    q: query.get("q") || "",
  };
  const state = { offset: Math.max(0, parseInt(query.get("offset") || "0", 10) || 0), total: 0, items: [], selected: -1, rows: [] };
  const [speakers, recordings] = await Promise.all([api(`${P(project)}/speakers`), api(`${P(project)}/recordings`)]);
  if (!root.isConnected) return;

  // Filters
  const select = (id, label, options, value) => {
    const s = el("select", { id, testid: id }, options.map(([v, text]) => el("option", { value: v, text })));
    s.value = value;
    return [el("label", { for: id, text: label }), s];
  };
  const [speakerLabel, speakerSelect] = select("filter-speaker", "Speaker", [["", "all"], ...speakers.items.map((s) => [s.label, s.name && s.name !== s.label ? `${s.name} (${s.label})` : s.label])], filters.speaker);
  const [recordingLabel, recordingSelect] = select("filter-recording", "Recording", [["", "all"], ...recordings.items.map((r) => [r.name, r.name])], filters.recording);
  const [verdictLabel, verdictSelect] = select("filter-verdict", "Verdict", [["", "all"], ["accepted", "accepted"], ["rejected", "rejected"], ["unmeasured", "unmeasured"]], filters.verdict);
  const reasonInput = el("input", { id: "filter-reason", testid: "filter-reason", value: filters.reason, placeholder: "e.g. snr", autocomplete: "off", size: 8 });
  const searchInput = el("input", { id: "filter-q", type: "search", testid: "filter-q", value: filters.q, placeholder: "words in the text", autocomplete: "off" });
  const filterBar = el("form", { class: "filters card", testid: "clip-filters", role: "search" },
    el("div", { class: "field" }, speakerLabel, speakerSelect),
    el("div", { class: "field" }, recordingLabel, recordingSelect),
    el("div", { class: "field" }, verdictLabel, verdictSelect),
    el("div", { class: "field" }, el("label", { for: "filter-reason", text: "Rejected for" }), reasonInput),
    el("div", { class: "field grow" }, el("label", { for: "filter-q", text: "Search" }), searchInput));
  filterBar.addEventListener("submit", (e) => e.preventDefault());

  // Table, pager, detail
  const tbody = el("tbody");
  const clipTable = el("div", { class: "table-wrap" }, el("table", { testid: "clips-table", class: "clips" },
    el("caption", { class: "sr-only", text: "Clips" }),
    el("thead", {}, el("tr", {}, ["", "Clip", "Speaker", "Text", "Verdict", "Review"].map((h) => el("th", { scope: "col", text: h })))),
    tbody));
  const pageInfo = el("span", { testid: "page-info" });
  const prev = el("button", { type: "button", testid: "page-prev", text: "← Previous" });
  const next = el("button", { type: "button", testid: "page-next", text: "Next →" });
  const pager = el("div", { class: "pager" }, prev, pageInfo, next);
  const audio = el("audio", { controls: true, preload: "none", testid: "clip-audio", "aria-label": "Clip audio" });
  const detail = el("aside", { class: "card clip-detail", testid: "clip-detail", "aria-label": "The selected clip" });
  const canvas = el("canvas", { class: "waveform", testid: "waveform", height: 140, "aria-label": "Waveform of the clip with its words; click to play from there", role: "img" });
  const detailBody = el("div");
  detail.append(el("h2", { class: "detail-title", testid: "detail-title", text: "No clip selected" }), canvas, audio, detailBody);

  root.append(
    el("div", { class: "section-head" }, el("h1", { text: "Review clips" }),
      el("button", { type: "button", class: "plain small", testid: "shortcuts", text: "Keyboard shortcuts (?)", onclick: toggleHelp })),
    filterBar,
    el("div", { class: "clips-layout" }, el("div", { class: "clips-main" }, clipTable, pager), detail));

  const wave = waveform(canvas, audio);

  const writeHash = () => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    if (state.offset) q.set("offset", state.offset);
    history.replaceState(null, "", projectHash(project, "clips", q.toString()));
  };

  const load = async (selectIndex = 0) => {
    const q = new URLSearchParams({ limit: PAGE, offset: state.offset });
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    const page = await api(`${P(project)}/clips?${q}`);
    if (!root.isConnected) return;
    state.total = page.total;
    state.items = page.items;
    state.selected = -1;
    detail.dataset.clip = "";
    writeHash();
    drawRows();
    const first = page.total ? state.offset + 1 : 0;
    pageInfo.textContent = `${first}–${state.offset + page.items.length} of ${page.total}`;
    prev.disabled = state.offset === 0;
    next.disabled = state.offset + PAGE >= page.total;
    if (state.items.length) choose(Math.max(0, Math.min(selectIndex < 0 ? state.items.length - 1 : selectIndex, state.items.length - 1)), false);
    else {
      state.selected = -1;
      showDetail(null);
    }
  };

  const drawRows = () => {
    state.rows = state.items.map((clip, i) => clipRow(clip, i));
    if (!state.rows.length) {
      fill(tbody, el("tr", {}, el("td", { colspan: 6, class: "empty", testid: "clips-empty", text: "No clips match. Run the pipeline, or change the filters." })));
      return;
    }
    fill(tbody, ...state.rows);
  };

  const clipRow = (clip, i) => {
    const playing = audio.dataset.clip === clip.id && !audio.paused;
    const play = el("button", { type: "button", class: "icon play", testid: "clip-play", "aria-label": `${playing ? "Pause" : "Play"} ${clip.id}`,
      text: playing ? "❚❚" : "▶", onclick: (e) => { blurAfterClick(e); choose(i, false); togglePlay(); } });
    const text = el("td", { class: "clip-text", tabindex: 0, testid: "clip-text",
      onclick: () => { choose(i, false); startEdit(i); } });
    fillText(text, clip);
    const accept = el("button", { type: "button", class: "small ok", testid: "clip-accept", text: "Accept", "aria-label": `Accept ${clip.id}`,
      "aria-pressed": clip.manual && clip.manual.verdict === "accepted" ? "true" : "false", onclick: (e) => { blurAfterClick(e); decide(i, "accept"); } });
    const reject = el("button", { type: "button", class: "small danger", testid: "clip-reject", text: "Reject", "aria-label": `Reject ${clip.id}`,
      "aria-pressed": clip.manual && clip.manual.verdict === "rejected" ? "true" : "false", onclick: (e) => { blurAfterClick(e); decide(i, "reject"); } });
    const undo = clip.manual ? el("button", { type: "button", class: "small plain", testid: "clip-unreview", text: "Undo", title: "Forget your decision: back to the quality gates' verdict",
      "aria-label": `Undo the decision on ${clip.id}`, onclick: (e) => { blurAfterClick(e); decide(i, "unreview"); } }) : null;
    const row = el("tr", { testid: "clip-row", class: i === state.selected ? "selected" : "", "aria-selected": i === state.selected ? "true" : "false",
      dataset: { id: clip.id, verdict: clip.verdict } },
      el("td", {}, play),
      el("td", { class: "small" }, el("div", { class: "mono", text: clip.id }),
        el("div", { class: "muted nowrap", testid: "clip-duration", text: `${clock(clip.start)}–${clock(clip.end)} · ${clip.duration.toFixed(1)} s` })),
      el("td", { testid: "clip-speaker", text: clip.speaker_name }),
      text,
      el("td", { testid: "clip-verdict", class: "verdict" }, verdictBadge(clip), reasonsList(clip)),
      el("td", {}, el("div", { class: "actions" }, accept, reject, undo)));
    row.addEventListener("click", (e) => {
      if (!e.target.closest("button, input, textarea, a")) choose(i, false);
    });
    return row;
  };

  const fillText = (cell, clip) => {
    const edited = clip.original_text !== null && clip.original_text !== undefined && clip.original_text !== clip.text;
    cell.classList.toggle("edited", edited);
    cell.dataset.edited = edited ? "true" : "false";
    cell.title = edited ? `Original (ASR): ${clip.original_text}` : "Click or press Enter to correct";
    fill(cell, el("span", { text: clip.text || "(no text)" }), edited ? el("span", { class: "tag", text: "edited" }) : null);
  };

  const choose = (i, scroll = true) => {
    if (i < 0 || i >= state.items.length) return;
    if (state.selected !== i) {
      const old = state.rows[state.selected];
      if (old) {
        old.classList.remove("selected");
        old.setAttribute("aria-selected", "false");
      }
      state.selected = i;
      const row = state.rows[i];
      row.classList.add("selected");
      row.setAttribute("aria-selected", "true");
      if (scroll) row.scrollIntoView({ block: "nearest" });
      showDetail(state.items[i]);
    } else if (!detail.dataset.clip) {
      showDetail(state.items[i]);
    }
  };

  const showDetail = async (clip) => {
    if (!clip) {
      detail.dataset.clip = "";
      $(".detail-title", detail).textContent = "No clip selected";
      detailBody.replaceChildren();
      wave.show(null);
      return;
    }
    detail.dataset.clip = clip.id;
    $(".detail-title", detail).textContent = clip.id;
    if (audio.dataset.clip !== clip.id) {
      audio.pause();
      audio.dataset.clip = clip.id;
      audio.src = withToken(clip.audio_url);
    }
    drawDetailBody(clip, null);
    const full = await api(`${P(project)}/clips/${encodeURIComponent(clip.id)}`, { quiet: true }).catch(() => null);
    if (!full || detail.dataset.clip !== clip.id) return;
    drawDetailBody(full, full.words);
    wave.show(full, full.words);
  };

  const drawDetailBody = (clip, words) => {
    const measures = Object.entries(clip.measures || {});
    const edited = clip.original_text && clip.original_text !== clip.text;
    fill(detailBody,
      el("p", { class: "detail-meta" },
        el("strong", { text: clip.speaker_name }), clip.speaker_name !== clip.speaker ? ` (${clip.speaker})` : "",
        ` · ${clip.recording} ${clock(clip.start)}–${clock(clip.end)} · ${clip.duration.toFixed(2)} s`),
      el("p", { class: "detail-text", testid: "detail-text", text: clip.text }),
      edited ? el("p", { class: "muted small", testid: "detail-original", text: `Original (ASR): ${clip.original_text}` }) : null,
      el("div", { class: "row" }, verdictBadge(clip),
        el("button", { type: "button", class: "small ok", testid: "detail-accept", text: "Accept (A)", onclick: (e) => { blurAfterClick(e); decide(state.selected, "accept"); } }),
        el("button", { type: "button", class: "small danger", testid: "detail-reject", text: "Reject (R)", onclick: (e) => { blurAfterClick(e); decide(state.selected, "reject"); } }),
        el("button", { type: "button", class: "small", testid: "detail-edit", text: "Edit text (E)", onclick: () => startEdit(state.selected) })),
      reasonsList(clip),
      clip.manual && clip.manual.note ? el("p", { class: "small", text: `Note: ${clip.manual.note}` }) : null,
      measures.length ? el("details", { class: "measures-box", open: window.innerWidth >= 760 },
        el("summary", { class: "small", text: `Quality measures (${measures.length})` }),
        el("dl", { class: "facts measures", testid: "detail-measures" },
          measures.map(([k, v]) => [el("dt", { text: k }), el("dd", { text: round(v) })]))) : el("p", { class: "muted small", text: "Not measured yet." }),
      clip.phonemes ? el("p", { class: "mono small phonemes", title: "Phonemes", text: clip.phonemes }) : null,
      words ? el("p", { class: "muted small", text: words.length ? `${plural(words.length, "word")}; lowest confidence ${Math.min(...words.map((w) => w.probability ?? 1)).toFixed(2)}` : "No word timings." }) : null);
  };

  const togglePlay = () => {
    const clip = state.items[state.selected];
    if (!clip) return;
    if (audio.dataset.clip !== clip.id) showDetail(clip);
    if (audio.paused) audio.play().catch((e) => showError(new ApiError(0, { error: `cannot play ${clip.id}: ${e.message}`, hint: "" })));
    else audio.pause();
  };

  const updatePlayButtons = () => {
    for (const [i, row] of state.rows.entries()) {
      const b = $("[data-testid=clip-play]", row);
      const playing = audio.dataset.clip === state.items[i].id && !audio.paused;
      b.textContent = playing ? "❚❚" : "▶";
      b.setAttribute("aria-label", `${playing ? "Pause" : "Play"} ${state.items[i].id}`);
    }
  };
  audio.addEventListener("play", updatePlayButtons);
  audio.addEventListener("pause", updatePlayButtons);
  audio.addEventListener("ended", updatePlayButtons);

  /** Replaces a clip with the server's answer and redraws its row (and detail). */
  const replace = (i, clip) => {
    state.items[i] = clip;
    const row = clipRow(clip, i);
    state.rows[i].replaceWith(row);
    state.rows[i] = row;
    if (i === state.selected) showDetail(clip);
  };

  const decide = async (i, what, advance = false) => {
    const clip = state.items[i];
    if (!clip) return;
    const updated = await act(null, () => api(`${P(project)}/clips/${encodeURIComponent(clip.id)}/${what}`, { method: "POST" }));
    if (!updated) return;
    replace(i, updated);
    if (advance) move(1);
  };

  const startEdit = (i) => {
    const clip = state.items[i];
    const cell = state.rows[i] && $("[data-testid=clip-text]", state.rows[i]);
    if (!clip || !cell || $("input", cell)) return;
    const input = el("input", { type: "text", class: "edit", value: clip.text, testid: "clip-text-input", "aria-label": `Correct the transcript of ${clip.id}` });
    fill(cell, input);
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
    let finished = false;
    const finish = async (save) => {
      if (finished) return;
      finished = true;
      const text = input.value.trim();
      if (save && text !== clip.text) {
        input.disabled = true;
        const updated = await act(null, () => api(`${P(project)}/clips/${encodeURIComponent(clip.id)}`, { method: "PATCH", body: { text } }));
        if (updated) {
          replace(i, updated);
          const again = state.rows[i] && $("[data-testid=clip-text]", state.rows[i]);
          if (again) again.focus();
          return;
        }
      }
      fillText(cell, clip);
      cell.focus();
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        finish(true);
      } else if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        finish(false);
      }
    });
    input.addEventListener("blur", () => finish(true));
  };

  const move = async (step) => {
    const target = state.selected + step;
    if (target >= 0 && target < state.items.length) {
      choose(target);
      return;
    }
    if (step > 0 && state.offset + PAGE < state.total) {
      state.offset += PAGE;
      await load(0);
    } else if (step < 0 && state.offset > 0) {
      state.offset = Math.max(0, state.offset - PAGE);
      await load(-1);
    }
  };

  current.keys = (e) => {
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    const onButton = e.target.closest && e.target.closest("button, a, summary, audio");
    if (onButton && (key === " " || key === "Enter")) return; // the focused control's own action
    const focusedRow = e.target.closest && e.target.closest("[data-testid=clip-row]");
    if (focusedRow && state.rows.includes(focusedRow)) choose(state.rows.indexOf(focusedRow), false);
    const i = state.selected;
    const actions = {
      " ": togglePlay,
      j: () => move(1),
      ArrowDown: () => move(1),
      k: () => move(-1),
      ArrowUp: () => move(-1),
      a: () => decide(i, "accept", true),
      r: () => decide(i, "reject", true),
      u: () => decide(i, "unreview"),
      e: () => startEdit(i),
      Enter: () => startEdit(i),
      ArrowLeft: () => { audio.currentTime = Math.max(0, audio.currentTime - 1); },
      ArrowRight: () => { audio.currentTime = Math.min(audio.duration || 0, audio.currentTime + 1); },
    };
    const action = actions[key];
    if (!action) return;
    e.preventDefault();
    action();
  };

  const reload = () => {
    state.offset = 0;
    load(0);
  };
  speakerSelect.addEventListener("change", () => { filters.speaker = speakerSelect.value; reload(); });
  recordingSelect.addEventListener("change", () => { filters.recording = recordingSelect.value; reload(); });
  verdictSelect.addEventListener("change", () => { filters.verdict = verdictSelect.value; reload(); });
  reasonInput.addEventListener("input", debounce(() => { filters.reason = reasonInput.value.trim(); reload(); }, 350));
  searchInput.addEventListener("input", debounce(() => { filters.q = searchInput.value.trim(); reload(); }, 350));
  prev.addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE); load(0); });
  next.addEventListener("click", () => { state.offset += PAGE; load(0); });

  current.cleanup = () => {
    audio.pause();
    wave.stop();
  };
  current.onRunEnd = () => toast("The run changed the clips.", el("button", { type: "button", class: "small", text: "Reload", onclick: () => load(0) }));
  await load(0);
}

/** After a mouse click, focus goes back to the page so that the shortcuts keep working (keyboard users keep theirs). */
function blurAfterClick(e) {
  if (e.detail > 0 && e.currentTarget && e.currentTarget.blur) e.currentTarget.blur();
}

function verdictBadge(clip) {
  const by = clip.manual ? "by hand" : clip.verdict === "unmeasured" ? "" : "by the gates";
  return el("span", { class: `badge ${clip.verdict}`, testid: "verdict", title: by, text: clip.manual ? `${clip.verdict} ✎` : clip.verdict });
}

function reasonsList(clip) {
  if (!clip.reasons || !clip.reasons.length) return null;
  return el("ul", { class: "reasons small" }, clip.reasons.map((r) => el("li", { text: r })));
}

// ---------------------------------------------------------------------------------------------------------------
// The waveform: decoded in the browser, drawn with the words over it and a playhead

const audioCache = new Map();
let audioContext = null;

/** The clip's samples (first channel) and duration, decoded once and kept for a few clips. */
async function decodeClip(url) {
  if (audioCache.has(url)) return audioCache.get(url);
  const response = await fetch(withToken(url), { headers: authHeaders() });
  if (!response.ok) throw new Error(`the audio could not be fetched (${response.status})`);
  const bytes = await response.arrayBuffer();
  audioContext = audioContext || new (window.AudioContext || window.webkitAudioContext)();
  const buffer = await audioContext.decodeAudioData(bytes);
  const decoded = { samples: buffer.getChannelData(0), duration: buffer.duration };
  audioCache.set(url, decoded);
  if (audioCache.size > 24) audioCache.delete(audioCache.keys().next().value);
  return decoded;
}

/** Min and max of the samples under each of `width` pixels. */
function peaks(samples, width) {
  const out = new Float32Array(width * 2);
  const per = samples.length / width;
  for (let x = 0; x < width; x++) {
    const from = Math.floor(x * per);
    const to = Math.max(from + 1, Math.floor((x + 1) * per));
    let lo = 1, hi = -1;
    for (let i = from; i < to && i < samples.length; i++) {
      const v = samples[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    out[2 * x] = lo > hi ? 0 : lo;
    out[2 * x + 1] = lo > hi ? 0 : hi;
  }
  return out;
}

function waveform(canvas, audio) {
  let shown = null; // {clip, words, decoded, peaks, width}
  let frame = 0;
  const css = getComputedStyle(document.documentElement);
  const color = (name, fallback) => css.getPropertyValue(name).trim() || fallback;

  const size = () => {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(100, canvas.clientWidth || 300);
    const height = 140;
    if (canvas.width !== Math.round(width * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    return { ctx, width, height };
  };

  const draw = () => {
    const { ctx, width, height } = size();
    ctx.clearRect(0, 0, width, height);
    ctx.fillStyle = color("--wave-bg", "#f4f6fa");
    ctx.fillRect(0, 0, width, height);
    if (!shown || !shown.decoded) {
      ctx.fillStyle = color("--muted", "#667");
      ctx.font = "13px system-ui, sans-serif";
      ctx.fillText(shown ? (shown.error || "Loading the audio…") : "Select a clip", 12, height / 2);
      return;
    }
    const { decoded, words } = shown;
    if (!shown.peaks || shown.width !== Math.round(width)) {
      shown.width = Math.round(width);
      shown.peaks = peaks(decoded.samples, shown.width);
    }
    const top = 30, mid = top + (height - top) / 2, amp = (height - top) / 2 - 4;
    // Words: a shaded span each, its start marked and labelled (two label rows, so neighbours overlap less).
    const duration = decoded.duration || 1;
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "top";
    const lastEnd = [-Infinity, -Infinity];
    (words || []).forEach((w, i) => {
      const x0 = (w.start / duration) * width, x1 = (w.end / duration) * width;
      ctx.fillStyle = i % 2 ? "rgba(69, 123, 157, 0.10)" : "rgba(69, 123, 157, 0.18)";
      ctx.fillRect(x0, top, Math.max(1, x1 - x0), height - top);
      ctx.fillStyle = "rgba(29, 53, 87, 0.55)";
      ctx.fillRect(x0, 0, 1, height);
      const lane = lastEnd[0] <= x0 ? 0 : lastEnd[1] <= x0 ? 1 : lastEnd[0] <= lastEnd[1] ? 0 : 1;
      const label = w.word;
      ctx.fillStyle = (w.probability ?? 1) < 0.5 ? color("--bad", "#c0392b") : color("--ink", "#1d3557");
      ctx.fillText(label, x0 + 2, 2 + lane * 13);
      lastEnd[lane] = x0 + 2 + ctx.measureText(label).width + 4;
    });
    // The waveform.
    ctx.fillStyle = color("--wave", "#457b9d");
    const p = shown.peaks;
    for (let x = 0; x < shown.width; x++) {
      const lo = p[2 * x], hi = p[2 * x + 1];
      ctx.fillRect(x, mid - hi * amp, 1, Math.max(1, (hi - lo) * amp));
    }
    // The playhead.
    if (audio.dataset.clip === shown.clip.id && audio.currentTime > 0) {
      const x = (audio.currentTime / duration) * width;
      ctx.fillStyle = color("--bad", "#e63946");
      ctx.fillRect(x - 1, 0, 2, height);
    }
  };

  const loop = () => {
    draw();
    frame = audio.paused ? 0 : requestAnimationFrame(loop);
  };
  const start = () => {
    if (!frame) frame = requestAnimationFrame(loop);
  };
  audio.addEventListener("play", start);
  audio.addEventListener("pause", draw);
  audio.addEventListener("seeked", draw);
  audio.addEventListener("timeupdate", () => { if (audio.paused) draw(); });

  canvas.addEventListener("click", (e) => {
    if (!shown || !shown.decoded) return;
    const rect = canvas.getBoundingClientRect();
    const t = ((e.clientX - rect.left) / rect.width) * shown.decoded.duration;
    if (audio.dataset.clip !== shown.clip.id) {
      audio.dataset.clip = shown.clip.id;
      audio.src = withToken(shown.clip.audio_url);
    }
    const seek = () => {
      audio.currentTime = Math.max(0, Math.min(t, shown.decoded.duration));
      audio.play().catch(() => {});
    };
    if (audio.readyState >= 1) seek();
    else {
      audio.addEventListener("loadedmetadata", seek, { once: true });
      audio.load();
    }
  });
  if (window.ResizeObserver) new ResizeObserver(() => draw()).observe(canvas);

  return {
    async show(clip, words) {
      canvas.dataset.ready = "";
      if (!clip) {
        shown = null;
        draw();
        return;
      }
      shown = { clip, words, decoded: null };
      draw();
      const mine = shown;
      try {
        mine.decoded = await decodeClip(clip.audio_url);
      } catch (e) {
        mine.error = `No waveform: ${e.message}`;
      }
      if (shown !== mine) return;
      draw();
      canvas.dataset.ready = clip.id;
    },
    stop() {
      cancelAnimationFrame(frame);
      frame = 0;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Speakers

async function viewSpeakers(root, project) {
  const data = await api(`${P(project)}/speakers`);
  if (!root.isConnected) return;
  const player = new Audio();
  let playing = null;
  current.cleanup = () => player.pause();

  root.append(el("h1", { text: "Speakers" }),
    el("p", { class: "muted", text: "Name the speakers, listen to a sample of each, and merge speakers that are the same person (a merge can be undone)." }));
  if (!data.items.length) {
    root.append(el("p", { class: "empty", testid: "speakers-empty", text: "No speakers yet: run the pipeline first." }));
    return;
  }
  const describe = (s) => (s.name && s.name !== s.label ? `${s.name} (${s.label})` : s.label);
  const into = el("select", { id: "merge-into", testid: "merge-into" }, el("option", { value: "", text: "choose a speaker…" }),
    data.items.map((s) => el("option", { value: s.label, text: describe(s) })));
  const mergeButton = el("button", { type: "button", class: "primary", testid: "merge-button", text: "Merge" });
  const checked = () => $$("[data-testid=speaker-select]", root).filter((c) => c.checked).map((c) => c.value);

  const rows = data.items.map((s) => {
    const box = el("input", { type: "checkbox", value: s.label, testid: "speaker-select", "aria-label": `Select ${describe(s)} to merge` });
    box.addEventListener("change", () => {
      if (box.checked && !into.value) into.value = s.label;
    });
    const play = s.sample ? el("button", { type: "button", class: "icon play", testid: "speaker-play", text: "▶", "aria-label": `Play a sample of ${describe(s)}` }) : null;
    if (play) {
      play.addEventListener("click", () => {
        if (playing === play && !player.paused) {
          player.pause();
          return;
        }
        player.src = withToken(s.sample.audio_url);
        player.play().catch((e) => showError(new ApiError(0, { error: `cannot play the sample: ${e.message}`, hint: "" })));
        playing = play;
      });
    }
    const nameCell = el("td", { testid: "speaker-name-cell" });
    const showName = () => fill(nameCell,
      el("button", { type: "button", class: "plain name", testid: "speaker-name", title: "Click to rename", "aria-label": `Rename ${describe(s)}`,
        text: s.name || s.label, onclick: () => rename(s, nameCell, showName) }),
      el("div", { class: "muted small mono", testid: "speaker-label", text: s.label }));
    showName();
    return el("tr", { testid: "speaker-row", dataset: { label: s.label } },
      el("td", {}, box),
      nameCell,
      el("td", { class: "num", text: s.clips }),
      el("td", { class: "num", text: (s.clip_secs / 60).toFixed(1) }),
      el("td", { class: "num", text: (s.speech_secs / 60).toFixed(1) }),
      el("td", { class: "small", title: s.recordings.join(", "), text: s.recordings.length > 2 ? `${s.recordings.length} recordings` : s.recordings.join(", ") }),
      el("td", { class: "sample" }, play, s.sample ? el("span", { class: "small muted", text: ` ${s.sample.text}` }) : null),
      el("td", { testid: "speaker-merged" }, s.merged.map((m) => el("span", { class: "merged" }, el("span", { class: "mono small", text: m }), " ",
        el("button", { type: "button", class: "small", testid: "speaker-unmerge", dataset: { label: m }, text: "Unmerge", "aria-label": `Unmerge ${m} from ${describe(s)}`,
          onclick: (e) => unmerge(e.currentTarget, m) })))),
      el("td", {}, el("a", { class: "small nowrap", href: projectHash(project, "clips", `speaker=${encodeURIComponent(s.label)}`), testid: "speaker-clips", text: "clips →" })));
  });
  player.addEventListener("play", () => { if (playing) playing.textContent = "❚❚"; });
  player.addEventListener("pause", () => { if (playing) playing.textContent = "▶"; });

  const rename = (s, cell, showName) => {
    const input = el("input", { type: "text", value: s.name || "", testid: "speaker-name-input", "aria-label": `New name of ${s.label}`, placeholder: s.label });
    fill(cell, input);
    input.focus();
    input.select();
    let done = false;
    const finish = async (save) => {
      if (done) return;
      done = true;
      const name = input.value.trim();
      if (save && name !== (s.name || "")) {
        const ok = await act(null, () => api(`${P(project)}/speakers/${encodeURIComponent(s.label)}/rename`, { method: "POST", body: { name } }));
        if (ok) {
          toast(`${s.label} is now ${ok.name || s.label}.`);
          render();
          return;
        }
      }
      showName();
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") finish(true);
      else if (e.key === "Escape") finish(false);
    });
    input.addEventListener("blur", () => finish(true));
  };

  const unmerge = async (button, label) => {
    const ok = await act(button, () => api(`${P(project)}/speakers/${encodeURIComponent(label)}/unmerge`, { method: "POST" }));
    if (ok) {
      toast(`${label} is its own speaker again (${plural(ok.moved.length, "clip")} moved back).`);
      render();
    }
  };

  mergeButton.addEventListener("click", async () => {
    const target = into.value;
    const from = checked().filter((l) => l !== target);
    if (!target || !from.length) {
      showError(new ApiError(0, { error: "nothing to merge", hint: "tick the speakers to merge and choose the one they become" }));
      return;
    }
    const ok = await act(mergeButton, () => api(`${P(project)}/speakers/merge`, { method: "POST", body: { into: target, from } }));
    if (ok) {
      toast(`Merged ${from.join(", ")} into ${target} (${plural(ok.moved.length, "clip")} moved).`);
      render();
    }
  });

  const moveFlagged = el("input", { type: "checkbox", id: "recheck-move", testid: "recheck-move" });
  const recheck = el("button", { type: "button", testid: "speakers-recheck", text: "Check every clip against its speaker" });
  recheck.addEventListener("click", async () => {
    recheck.textContent = "Checking…";
    const report = await act(recheck, () => api(`${P(project)}/speakers/recheck`, { method: "POST", body: { move: moveFlagged.checked } }));
    recheck.textContent = "Check every clip against its speaker";
    if (!report) return;
    const n = (x) => (Array.isArray(x) ? x.length : x || 0);
    toast(`${plural(n(report.clips), "clip")} checked: ${n(report.flagged)} flagged (left out of exports), ${n(report.moved)} moved, ${n(report.cleared)} cleared.`);
    render();
  });
  root.append(
    el("div", { class: "card merge-bar row", testid: "merge-bar" },
      el("label", { for: "merge-into", text: "Merge the ticked speakers into" }), into, mergeButton),
    table("speakers-table", ["", "Speaker", ["Clips", "num"], ["Clip min", "num"], ["Speech min", "num"], "Recordings", "Sample", "Merged", ""], rows, "Speakers"),
    el("div", { class: "card row", testid: "recheck-bar" }, recheck,
      el("span", { class: "row" }, moveFlagged, el("label", { for: "recheck-move", text: "move a clip that sounds like another speaker to that speaker" }))));
}

// ---------------------------------------------------------------------------------------------------------------
// Stats

async function viewStats(root, project) {
  const s = await api(`${P(project)}/stats`);
  if (!root.isConnected) return;
  const accepted = (s.verdicts && s.verdicts.accepted) || 0;
  root.append(el("h1", { text: "Stats" }),
    el("div", { class: "cards", testid: "stats-summary" },
      fact("Recordings", s.recordings), fact("Audio", span(s.audio_hours * 3600)), fact("Clips", s.clips),
      fact("Clip time", span(s.clip_hours * 3600)), fact("Speakers", s.speakers.length), fact("Accepted clips", accepted)));
  if (!s.clips) {
    root.append(el("p", { class: "empty", testid: "stats-empty", text: "No clips yet: run the pipeline first." }));
    return;
  }
  const maxHours = Math.max(...s.speakers.map((x) => x.hours), 1e-9);
  const speakerBars = s.speakers.map((x) => hbar(x.name, x.hours / maxHours, `${span(x.hours * 3600)} · ${x.clips} clips`, x.accepted_hours / maxHours, `${span(x.accepted_hours * 3600)} accepted`));
  const verdictMax = Math.max(...Object.values(s.verdicts), 1);
  const verdictBars = ["accepted", "rejected", "unmeasured"].filter((v) => v in s.verdicts)
    .map((v) => hbar(v, s.verdicts[v] / verdictMax, String(s.verdicts[v]), null, null, v));
  const reasons = Object.entries(s.rejected_for).sort((a, b) => b[1] - a[1]).slice(0, 10);
  const reasonMax = Math.max(...reasons.map((r) => r[1]), 1);
  const reasonBars = reasons.map(([r, n]) => hbar(r, n / reasonMax, String(n), null, null, "rejected"));
  const measures = Object.entries(s.measures);
  root.append(
    el("div", { class: "chart-grid" },
      chartCard("Hours per speaker", "stats-speakers", speakerBars, "Lighter: all clips; darker: accepted."),
      chartCard("Clip lengths", "stats-lengths", [lengthHistogram(s.clip_lengths)], "Clips per second of length."),
      chartCard("Verdicts", "stats-verdicts", verdictBars),
      chartCard("Top rejection reasons", "stats-reasons", reasonBars.length ? reasonBars : [el("p", { class: "muted", text: "No clip was rejected." })])),
    el("h2", { text: "Quality measures" }),
    el("div", { class: "chart-grid measures", testid: "stats-measures" },
      measures.length ? measures.map(([name, m]) => measureCard(name, m)) : el("p", { class: "muted", text: "Nothing measured yet." })));
  requestAnimationFrame(() => $$("canvas[data-measure]", root).forEach((c) => drawMeasure(c, s.measures[c.dataset.measure])));
}

function fact(label, value) {
  return el("div", { class: "card fact" }, el("div", { class: "fact-value", text: value }), el("div", { class: "muted small", text: label }));
}

function chartCard(title, testid, body, note) {
  return el("section", { class: "card chart", testid }, el("h2", { text: title }), body, note ? el("p", { class: "muted small", text: note }) : null);
}

/** A horizontal bar (0..1) with an optional darker inner part. */
function hbar(label, fraction, value, inner, innerTitle, kind = "") {
  return el("div", { class: "hbar" },
    el("span", { class: "hbar-label", title: label, text: label }),
    el("span", { class: `hbar-track ${kind}` },
      el("span", { class: "hbar-fill", style: { width: `${Math.max(0.5, fraction * 100)}%` } }),
      inner !== null && inner !== undefined ? el("span", { class: "hbar-inner", title: innerTitle, style: { width: `${inner * 100}%` } }) : null),
    el("span", { class: "hbar-value", text: value }));
}

function lengthHistogram(bins) {
  let last = bins.length - 1;
  while (last > 0 && !bins[last].clips) last--;
  const shown = bins.slice(0, Math.max(last + 1, 5));
  const max = Math.max(...shown.map((b) => b.clips), 1);
  return el("div", { class: "vbars", role: "img", "aria-label": shown.map((b) => `${b.from_secs}-${b.to_secs} s: ${b.clips}`).join(", ") },
    shown.map((b, i) => el("div", { class: "vbar", title: `${b.from_secs}–${b.to_secs}${i === bins.length - 1 ? "+" : ""} s: ${plural(b.clips, "clip")}` },
      el("span", { class: "vbar-count", text: b.clips || "" }),
      el("span", { class: "vbar-fill", style: { height: `${(b.clips / max) * 100}%` } }),
      el("span", { class: "vbar-label", text: i % 5 === 0 || shown.length <= 12 ? b.from_secs : "" }))));
}

function measureCard(name, m) {
  return el("section", { class: "card chart", testid: "stats-measure", dataset: { measure: name } },
    el("h3", { text: name }),
    el("canvas", { class: "histogram", height: 110, dataset: { measure: name }, role: "img",
      "aria-label": `${name}: ${m.clips} clips, median ${round(m.median)}, 10th percentile ${round(m.p10)}, 90th ${round(m.p90)}` }),
    el("p", { class: "small muted", text: `${m.clips} clips · min ${round(m.min)} · p10 ${round(m.p10)} · median ${round(m.median)} · p90 ${round(m.p90)} · max ${round(m.max)}` }));
}

/** A histogram of a measure's values with its 10th, 50th and 90th percentiles marked. */
function drawMeasure(canvas, m) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(120, canvas.clientWidth), height = 110;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const values = m.values || [];
  const lo = m.min, hi = m.max === m.min ? m.min + 1 : m.max;
  const nbins = Math.min(30, Math.max(8, Math.round(Math.sqrt(values.length) * 2)));
  const counts = new Array(nbins).fill(0);
  for (const v of values) counts[Math.min(nbins - 1, Math.floor(((v - lo) / (hi - lo)) * nbins))]++;
  const max = Math.max(...counts, 1);
  const bottom = height - 16;
  ctx.fillStyle = "#457b9d";
  const w = width / nbins;
  counts.forEach((c, i) => {
    const h = (c / max) * (bottom - 6);
    ctx.fillRect(i * w + 1, bottom - h, Math.max(1, w - 2), h);
  });
  const xOf = (v) => ((v - lo) / (hi - lo)) * width;
  for (const [v, dash] of [[m.p10, [3, 3]], [m.median, []], [m.p90, [3, 3]]]) {
    ctx.strokeStyle = "#e63946";
    ctx.setLineDash(dash);
    ctx.beginPath();
    ctx.moveTo(xOf(v), 0);
    ctx.lineTo(xOf(v), bottom);
    ctx.stroke();
  }
  ctx.setLineDash([]);
  ctx.fillStyle = "#556";
  ctx.font = "11px system-ui, sans-serif";
  ctx.textBaseline = "bottom";
  ctx.fillText(round(m.min), 0, height);
  const maxText = round(m.max);
  ctx.fillText(maxText, width - ctx.measureText(maxText).width, height);
}

// ---------------------------------------------------------------------------------------------------------------
// Export

const FORMATS = [
  ["ljspeech", "LJSpeech — metadata.csv + wavs/ (single-speaker TTS)"],
  ["piper", "Piper — metadata.csv + wavs/ + dataset.json for piper.train"],
  ["hf", "Hugging Face — Parquet with a dataset card"],
  ["audiofolder", "audiofolder — Hugging Face's folder layout with metadata.csv"],
  ["lhotse", "Lhotse — recordings, supervisions and cuts manifests"],
  ["nemo", "NeMo — JSON-lines manifests per split"],
  ["kaldi", "Kaldi — wav.scp, text, utt2spk, spk2utt per split"],
  ["webdataset", "WebDataset — tar shards of wav, txt and json"],
  ["emilia", "Emilia — emilia.jsonl + wavs/"],
];

async function viewExport(root, project) {
  const summary = await api(P(project));
  if (!root.isConnected) return;
  const format = el("select", { id: "export-format", testid: "export-format" }, FORMATS.map(([v, text]) => el("option", { value: v, text })));
  const archive = el("select", { id: "export-archive", testid: "export-archive" },
    ["zip", "tar.gz", "tar.zst"].map((v) => el("option", { value: v, text: v })));
  const rejected = el("input", { type: "checkbox", id: "export-include-rejected", testid: "export-include-rejected" });
  const button = el("button", { type: "submit", class: "primary", testid: "export-button", text: "Make the dataset" });
  const result = el("div", { class: "export-result", testid: "export-result", "aria-live": "polite" });
  const form = el("form", { class: "card export-form", testid: "export-form" },
    el("div", { class: "field" }, el("label", { for: "export-format", text: "Dataset format" }), format),
    el("div", { class: "field" }, el("label", { for: "export-archive", text: "Archive" }), archive),
    el("div", { class: "field check" }, rejected, el("label", { for: "export-include-rejected", text: "Include rejected and unmeasured clips (each marked with its verdict where the format allows)" })),
    el("div", { class: "row" }, button), result);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    fill(result, el("span", { class: "muted", text: "Writing the dataset and its archive…" }));
    button.textContent = "Working…";
    const made = await act(button, () => api(`${P(project)}/datasets`, { method: "POST",
      body: { format: format.value, include_rejected: rejected.checked, archive: archive.value } }));
    button.textContent = "Make the dataset";
    if (!made) {
      result.replaceChildren();
      return;
    }
    const left = [made.rejected_left_out ? `${made.rejected_left_out} rejected` : null, made.unmeasured_left_out ? `${made.unmeasured_left_out} unmeasured` : null].filter(Boolean);
    const file = `${project}-${made.format}.${made.archive}`;
    fill(result,
      el("p", { testid: "export-count", text: `${plural(made.clips, "clip")} written${left.length ? `; left out: ${left.join(", ")}` : ""}.` }),
      el("a", { class: "button primary", href: withToken(made.download_url), download: file, testid: "export-download", text: `Download ${file}` }));
  });
  const links = [["json", "JSON (every detail, words too)"], ["csv", "CSV (one utterance a row)"], ["text", "Plain text"]].map(([f, label]) =>
    el("li", {}, el("a", { href: withToken(`/api/v1${P(project)}/export?format=${f}`), download: `${project}-transcripts.${f === "text" ? "txt" : f}`,
      testid: `export-transcripts-${f}`, text: label })));
  root.append(el("h1", { text: "Export" }),
    el("p", { class: "muted", text: `${summary.accepted} of ${plural(summary.clips, "clip")} accepted. A dataset holds the accepted clips, with their corrected transcripts and speaker labels.` }),
    form,
    el("section", { class: "card" }, el("h2", { text: "Transcripts" }),
      el("p", { class: "muted small", text: "Every recording's speaker-labelled transcript." }), el("ul", { class: "links" }, links)));
}

// ---------------------------------------------------------------------------------------------------------------
// Training

/** How often the training view reads the runs again while one is being trained. */
const TRAINING_REFRESH_MS = 3000;

/** A number for people, or "–" when there is none. */
function maybe(v, fmt = round) {
  return v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v)) ? "–" : fmt(v);
}

async function viewTraining(root, project) {
  let data = await api(`${P(project)}/training`);
  if (!root.isConnected) return;
  const start = `voxmill train <project> --recipe piper --base CKPT`;
  const resume = `voxmill train <project> --resume`;
  /** Runs whose Stop is under way (it waits for the trainer to save a checkpoint): their button stays disabled. */
  const stopping = new Set();
  let timer = null;
  current.cleanup = () => clearTimeout(timer);

  const refreshButton = el("button", { type: "button", class: "small", testid: "training-refresh", text: "Refresh" });
  const box = el("div", { testid: "training-runs" });
  root.append(
    el("div", { class: "section-head" }, el("h1", { text: "Training" }), refreshButton),
    el("p", { class: "muted", text: "Voices trained on this project's accepted clips. Training runs from the command line (voxmill train); this page follows its runs and can stop one." }),
    box);

  const stop = async (button, run) => {
    stopping.add(run.name);
    button.textContent = "Stopping…";
    const done = await act(button, () => api(`${P(project)}/training/stop`, { method: "POST", body: { run: run.name } }));
    stopping.delete(run.name);
    if (done && done.run) {
      const r = done.run;
      toast(r.state === "stopped" ? `${r.name} stopped at step ${r.step}; ${resume} continues it.` : `${r.name}: ${r.state}.`);
    }
    await load().catch(() => {});
  };

  const row = (r) => {
    const options = r.options || {};
    const how = options.from_scratch ? "from scratch" : options.base ? `fine-tuned from ${options.base}` : "";
    const total = r.total_steps;
    const left = r.live && r.secs_left !== null && r.secs_left !== undefined ? clock(r.secs_left) : "–";
    const error = r.error ? String(r.error).split("\n")[0] : "";
    const stopButton = r.live ? el("button", { type: "button", class: "small danger", testid: "training-stop", dataset: { run: r.name },
      "aria-label": `Stop ${r.name}`, title: "Stop training: a checkpoint is saved first",
      text: stopping.has(r.name) ? "Stopping…" : "Stop", disabled: stopping.has(r.name),
      onclick: (e) => stop(e.currentTarget, r) }) : null;
    return el("tr", { testid: "training-row", dataset: { run: r.name, state: r.state } },
      el("td", { class: "nowrap", title: [how, r.dir].filter(Boolean).join("\n") },
        el("div", { class: "strong", text: r.name }), el("div", { class: "muted small", text: [r.recipe, r.device].filter(Boolean).join(" · ") })),
      el("td", { class: "training-state" }, el("span", { class: `badge ${r.state}`, testid: "training-state", text: r.state }), stopButton),
      el("td", { class: "num training-step" }, el("div", { testid: "training-step", text: total ? `${r.step} / ${total}` : String(r.step) }),
        total ? bar(Math.min(1, r.step / total), null, `Steps of ${r.name}`) : null,
        el("div", { class: "muted small", text: `epoch ${r.epoch}` })),
      el("td", { class: "num", text: `${maybe(r.loss_g)} / ${maybe(r.loss_d)}` }),
      el("td", { class: "num", text: maybe(r.best_val_mel) }),
      el("td", { class: "num", text: maybe(r.secs_per_step) }),
      el("td", { class: "num", testid: "training-left", text: left }),
      el("td", { class: "num" }, el("div", { text: plural(r.clips, "clip") }),
        el("div", { class: "muted small", text: `${(r.clip_secs / 60).toFixed(1)} min` })),
      el("td", { class: "num", text: `${(r.disk_bytes / 1e9).toFixed(2)} GB` }),
      el("td", { class: "training-voice" }, r.voice ? el("span", { class: "mono small path", testid: "training-voice", text: r.voice }) : "–"),
      el("td", { class: "training-error" }, error ? el("span", { testid: "training-error", title: r.error, text: error }) : null));
  };

  const draw = () => {
    if (!data.runs.length) {
      fill(box, el("div", { class: "empty training-empty", testid: "training-empty" },
        el("p", { text: "No training runs yet. Start one from the command line, on the machine that runs voxmill serve:" }),
        el("code", { class: "command", testid: "training-command", text: start }),
        el("p", { class: "small", text: `<project> is this project's folder (${project}); CKPT a published Piper checkpoint to fine-tune (or --from-scratch instead of --base CKPT). The run then shows here.` })));
      return;
    }
    // Keep the keyboard focus on a Stop button across the redraw.
    const focused = document.activeElement && box.contains(document.activeElement) ? document.activeElement.dataset.run : null;
    fill(box,
      table("training-table", ["Run", "State", ["Step / epoch", "num"], ["Loss G / D", "num"], ["Best val mel", "num"],
        ["s/step", "num"], ["Time left", "num"], ["Data", "num"], ["Disk", "num"], "Voice", "Error"], data.runs.map(row), "Training runs"),
      el("p", { class: "muted small", text: `Stop saves a checkpoint first; ${resume} continues a stopped or interrupted run.` }));
    if (focused) {
      const again = $(`[data-testid=training-stop][data-run="${CSS.escape(focused)}"]`, box);
      if (again) again.focus();
    }
  };

  /** While a run is being trained, the runs are read again in a few seconds. */
  const schedule = () => {
    clearTimeout(timer);
    if (root.isConnected && data.runs.some((r) => r.live)) timer = setTimeout(() => load().catch(() => {}), TRAINING_REFRESH_MS);
  };

  /** Reads the runs again (errors shown only when asked for by a click: a poll that fails tries again later). */
  async function load(quiet = true) {
    clearTimeout(timer);
    try {
      const fresh = await api(`${P(project)}/training`, { quiet });
      if (root.isConnected) data = fresh;
    } finally {
      if (root.isConnected) {
        draw();
        schedule();
      }
    }
  }

  refreshButton.addEventListener("click", () => act(refreshButton, () => load(false)));
  draw();
  schedule();
}

// ---------------------------------------------------------------------------------------------------------------
// Keys, help, start

function toggleHelp() {
  const dialog = $("#help");
  if (dialog.open) dialog.close();
  else dialog.showModal();
}

function typing(target) {
  if (!target || !target.closest) return false;
  if (target.isContentEditable) return true;
  const field = target.closest("input, textarea, select");
  return Boolean(field && !(field.tagName === "INPUT" && ["checkbox", "radio", "button", "submit"].includes(field.type)));
}

document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
  if (e.key === "?") {
    e.preventDefault();
    toggleHelp();
    return;
  }
  if ($("#help").open) return;
  if (current.keys) current.keys(e);
});

function start() {
  captureToken();
  $("#help-button").addEventListener("click", toggleHelp);
  window.addEventListener("hashchange", render);
  render();
}

start();
