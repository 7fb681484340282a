// ClipForge studio: a prompt form, live progress and a gallery, on the server's own API.
//
// Progress comes from GET /v1/jobs/{id}/events (server-sent events), read with fetch()
// streaming so that the API key travels in the Authorization header (EventSource cannot
// send headers). If the stream cannot be opened or breaks, the page polls GET /v1/jobs/{id}.
"use strict";

const KEY_STORAGE = "clipforge.apiKey";
const PAGE_SIZE = 24;
const POLL_MS = 1000;
const STREAM_MIN_MS = 2000;
const TERMINAL = new Set(["completed", "error", "cancelled"]);
const CREATE_PATH = "/v2/video/generations";

const $ = (id) => document.getElementById(id);
const cards = new Map(); // job id -> <li>
const following = new Set(); // job ids with a live follower
let watched = null; // the job whose progress the status region announces
let offset = 0;
let models = []; // GET /v1/models: what each id takes

class AuthError extends Error {}
class Refused extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

// --- HTTP ---------------------------------------------------------------------------------

function authHeaders() {
  const key = localStorage.getItem(KEY_STORAGE);
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function api(path, options = {}) {
  const headers = { ...authHeaders(), ...(options.headers || {}) };
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    // Tell the two apart: nothing sent yet, or a key the server does not know.
    const message = localStorage.getItem(KEY_STORAGE)
      ? "The server refused this API key (wrong, or revoked). Check it and enter it again."
      : "This server needs an API key: enter it below.";
    showKeyBox(message);
    throw new AuthError(message);
  }
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try {
      const body = await response.json();
      message = body.message || (body.error && body.error.message) || message;
    } catch (_) { /* not JSON */ }
    throw new Refused(response.status, message, response.headers.get("Retry-After"));
  }
  return response;
}

async function getJSON(path, options) {
  return (await api(path, options)).json();
}

// --- progress: events stream first, polling as the fallback --------------------------------

async function follow(id) {
  if (following.has(id)) return;
  following.add(id);
  try {
    for (;;) {
      const opened = Date.now();
      const job = await streamEvents(id).catch(() => null);
      if (job && TERMINAL.has(job.status)) return;
      // The server ends a stream after a while (reconnect); a stream that fails or ends at
      // once means something in between does not pass it on: poll instead.
      if (!job || Date.now() - opened < STREAM_MIN_MS) break;
    }
    await poll(id);
  } finally {
    following.delete(id);
  }
}

async function streamEvents(id) {
  const response = await api(`/v1/jobs/${encodeURIComponent(id)}/events`, {
    headers: { Accept: "text/event-stream" },
  });
  if (!response.body) throw new Error("no streaming body");
  setTransport(id, "sse");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let last = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return last;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const job = parseEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (job) { last = job; show(job); }
    }
  }
}

function parseEvent(block) {
  const data = block.split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice(5).trimStart())
    .join("\n");
  return data ? JSON.parse(data) : null;
}

async function poll(id) {
  setTransport(id, "polling");
  for (;;) {
    try {
      const job = await getJSON(`/v1/jobs/${encodeURIComponent(id)}`);
      show(job);
      if (TERMINAL.has(job.status)) return;
    } catch (error) {
      if (error instanceof AuthError) return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function setTransport(id, how) {
  if (id === watched) $("progress-box").dataset.transport = how;
}

// --- words for a job ------------------------------------------------------------------------

function describe(job) {
  const { step, total } = job.progress;
  switch (job.status) {
    case "queued":
      return job.queue_position == null ? "Queued" : `Queued: position ${job.queue_position + 1} in line`; // 0: next
    case "generating": {
      const eta = job.eta_seconds == null ? "" : `, about ${Math.ceil(job.eta_seconds)} s left`;
      if (job.phase === "decoding") return `Decoding the frames${eta}`;
      if (job.phase === "encoding") return `Encoding the video${eta}`;
      if (job.phase === "uploading") return `Saving the video${eta}`;
      if (job.phase === "loading" || !total) return "Generating: loading the model";
      return `Generating: step ${step} of ${total}${eta}`;
    }
    case "completed":
      return "Completed";
    case "cancelled":
      return "Cancelled";
    default:
      return `Failed: ${job.error ? job.error.message : "unknown error"}`;
  }
}

function setBar(bar, job) {
  const { step, total } = job.progress;
  if (job.status === "generating" && total) bar.value = step / total;
  else if (job.status === "completed") bar.value = 1;
  else bar.removeAttribute("value"); // indeterminate while queued
}

function readingLine(job) {
  const reading = job.reading || {};
  if (!reading.prompt) return "";
  const unused = (reading.unused_words || []).join(", ");
  return `Model read: ${reading.prompt}` + (unused ? ` (did not use: ${unused})` : "");
}

function metaLine(job) {
  const r = job.request;
  const flags = [r.generate_audio && "♪ sound", r.camera_fixed && "camera fixed",
    r.watermark && "watermark"].filter(Boolean);
  return [r.resolution, r.aspect_ratio, `${r.duration} s`, `seed ${r.seed}`, ...flags].join(" · ");
}

// --- the gallery ------------------------------------------------------------------------------

function show(job) {
  const card = cards.get(job.id) || addCard(job, true);
  updateCard(card, job);
  if (job.id === watched) updateProgressBox(job);
}

function addCard(job, atTop) {
  const card = $("card-template").content.firstElementChild.cloneNode(true);
  card.dataset.jobId = job.id;
  card.querySelector(".prompt").textContent = job.request.prompt;
  card.querySelector(".meta").textContent = metaLine(job);
  card.querySelector(".cancel").addEventListener("click", () => cancel(job.id));
  card.querySelector(".delete").addEventListener("click", () => remove(job.id));
  card.setAttribute("aria-label", `Generation: ${job.request.prompt}`);
  const gallery = $("gallery");
  if (atTop) gallery.prepend(card); else gallery.append(card);
  cards.set(job.id, card);
  $("gallery-empty").hidden = true;
  return card;
}

function updateCard(card, job) {
  card.dataset.status = job.status;
  card.querySelector(".reading").textContent = readingLine(job);
  card.querySelector(".status").textContent = describe(job);
  const bar = card.querySelector(".card-progress");
  bar.hidden = TERMINAL.has(job.status);
  setBar(bar, job);
  card.querySelector(".cancel").hidden = TERMINAL.has(job.status);
  updateThumb(card, job);
  if (window.studioExtras) window.studioExtras.updateCard(card, job);
  const download = card.querySelector(".download");
  download.hidden = !job.video_url;
  if (job.video_url) {
    download.href = job.video_url;
    download.download = `clipforge-${job.id}.mp4`;
    addVideo(card, job);
  }
}

function addVideo(card, job) {
  const media = card.querySelector(".media");
  if (media.querySelector("video")) return;
  const thumb = media.querySelector(".thumb");
  if (thumb) thumb.remove();
  const video = document.createElement("video");
  video.controls = true;
  video.playsInline = true;
  // A clip that finished while the page was open loads at once; history shows its poster
  // (a small still the server made while encoding) and loads nothing until played.
  const fresh = following.has(job.id);
  if (job.poster_url) video.poster = job.poster_url;
  video.preload = fresh ? "auto" : job.poster_url ? "none" : "metadata";
  video.src = fresh || job.poster_url ? job.video_url : `${job.video_url}#t=0.1`;
  const sound = job.request.generate_audio ? " (with sound)" : "";
  video.setAttribute("aria-label", `Video${sound}: ${job.request.prompt}`);
  card.dataset.sound = String(Boolean(job.request.generate_audio));
  media.append(video);
}

function updateProgressBox(job) {
  $("progress-box").hidden = false;
  $("progress-box").dataset.status = job.status;
  $("progress-text").textContent = describe(job);
}

async function loadGallery(more = false) {
  if (!more) {
    offset = 0;
    cards.clear();
    $("gallery").replaceChildren();
  }
  try {
    const page = await getJSON(`/v1/jobs?limit=${PAGE_SIZE}&offset=${offset}`);
    for (const job of page.data) {
      updateCard(cards.get(job.id) || addCard(job, false), job);
      if (!TERMINAL.has(job.status)) follow(job.id);
    }
    offset += page.data.length;
    $("more").hidden = !page.has_more;
    $("gallery-empty").textContent = "No generations yet.";
    $("gallery-empty").hidden = cards.size > 0;
  } catch (error) {
    $("gallery-empty").textContent = error instanceof AuthError
      ? "Enter the API key (on the left) to see this server's generations."
      : refusalText(error);
  }
}

async function remove(id) {
  const card = cards.get(id);
  const prompt = card ? card.querySelector(".prompt").textContent : id;
  if (!window.confirm(`Delete "${prompt}"? The video is removed from the server for good.`)) {
    return;
  }
  try {
    await api(`/v1/videos/${encodeURIComponent(id)}`, { method: "DELETE" });
    if (card) card.remove();
    cards.delete(id);
    if (window.studioExtras) window.studioExtras.forget(id);
    if (id === watched) $("progress-box").hidden = true;
    $("gallery-empty").hidden = cards.size > 0;
  } catch (error) {
    $("form-error").textContent = refusalText(error);
  }
}

async function cancel(id) {
  try {
    show(await getJSON(`/v1/jobs/${encodeURIComponent(id)}/cancel`, { method: "POST" }));
  } catch (error) {
    $("form-error").textContent = error.message;
  }
}

// --- the form -------------------------------------------------------------------------------

function requestBody() {
  const body = {
    model: $("model").value,
    prompt: $("prompt").value.trim(),
    resolution: $("resolution").value,
    aspect_ratio: $("aspect-ratio").value,
    duration: Number($("duration").value),
    camera_fixed: $("camera-fixed").checked,
    watermark: $("watermark").checked,
  };
  const seed = $("seed").value.trim();
  if (seed !== "") body.seed = Number(seed);
  const model = modelInfo();
  if (!$("duration").value) delete body.duration;
  if (takesFrames(model)) {
    if (!body.aspect_ratio) delete body.aspect_ratio; // the first image's own
    if (images.first) body.image_url = images.first;
    if (images.last && model.last_frame) body.last_image_url = images.last;
  } else if (!body.aspect_ratio) {
    body.aspect_ratio = "16:9";
  }
  return model ? withModelFields(body, model) : body;
}

async function submit(event) {
  event.preventDefault();
  const error = $("form-error");
  error.textContent = "";
  const body = requestBody();
  if (!body.prompt) {
    error.textContent = "Write a prompt first.";
    $("prompt").focus();
    return;
  }
  const button = $("generate");
  button.disabled = true;
  try {
    const created = await getJSON(CREATE_PATH, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    watched = created.id;
    if (body.image_url) await keepThumb(created.id, body.image_url);
    show(await getJSON(`/v1/jobs/${encodeURIComponent(created.id)}`));
    follow(created.id);
  } catch (failure) {
    error.textContent = refusalText(failure);
  } finally {
    button.disabled = false;
  }
}

function refusalText(failure) {
  // What the server said, and what to do next.
  if (failure instanceof AuthError) return failure.message;
  if (!(failure instanceof Refused)) {
    return `${failure.message}. Is the server running? Reload the page once it is.`;
  }
  const wait = failure.retryAfter ? ` Try again in ${failure.retryAfter} s.` : " Try again soon.";
  const next = {
    400: " Change what the message names, then generate again.",
    404: " It is gone: refresh the list.",
    413: " Pick a smaller image (or a shorter prompt).",
    429: ` Too many requests at once.${wait}`,
    503: ` The server cannot take it now.${wait}`,
    507: " The server's storage is full: tell its operator.",
  }[failure.status] || (failure.status >= 500 ? ` The server failed.${wait}` : "");
  const said = /[.?!]$/.test(failure.message) ? failure.message : `${failure.message}.`;
  return `Refused: ${said}${next}`;
}

// --- the key, the settings and the model list -----------------------------------------------

function showKeyBox(problem = "") {
  const box = $("key-box");
  if (box.hidden) {
    box.hidden = false;
    $("api-key").value = localStorage.getItem(KEY_STORAGE) || "";
  }
  $("key-problem").textContent = problem;
}

async function loadModels() {
  try {
    models = (await getJSON("/v1/models")).data;
    if (!models.length) return;
    const select = $("model");
    select.replaceChildren(...models.map((model) => new Option(model.id, model.id)));
    restoreSettings(["model"]);
    updateImageFields();
    restoreSettings(["duration", "resolution", "aspect-ratio"]); // now the model's options
  } catch (error) {
    if (!(error instanceof AuthError)) $("form-error").textContent = refusalText(error);
  }
}

function saveKey() {
  const key = $("api-key").value.trim();
  if (key) localStorage.setItem(KEY_STORAGE, key); else localStorage.removeItem(KEY_STORAGE);
  $("form-error").textContent = "";
  $("key-problem").textContent = "";
  loadModels();
  loadGallery();
}

function start() {
  $("generate-form").addEventListener("submit", submit);
  $("api-key").addEventListener("change", saveKey);
  $("refresh").addEventListener("click", () => loadGallery());
  $("more").addEventListener("click", () => loadGallery(true));
  watchFrames();
  watchReferences();
  restoreSettings(SETTINGS.filter((id) => id !== "model"));
  for (const id of SETTINGS) $(id).addEventListener("change", saveSettings);
  if (localStorage.getItem(KEY_STORAGE)) showKeyBox();
  loadModels();
  loadGallery();
}

start();
