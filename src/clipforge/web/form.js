// ClipForge studio, the form's helpers: the picked frames (pick, paste, drop) and their
// previews, what the chosen model can do, example prompts, the settings kept across reloads,
// and the first-frame thumbnails of image jobs. Loaded before app.js, which calls these.
"use strict";

const SETTINGS_STORAGE = "clipforge.settings"; // the form's choices, kept across reloads
const THUMBS_STORAGE = "clipforge.thumbs"; // job id -> a small first frame (image jobs)
const SETTINGS = ["model", "resolution", "aspect-ratio", "duration", "seed", "camera-fixed",
  "watermark", "generate-audio"];
// What the built-in model reads: colour, shape, motion, camera, background, tone (its config).
const BUILTIN_EXAMPLES = [
  "a red circle moving to the right on a plain black background",
  "a yellow triangle bouncing on a navy striped background",
  "a cyan square growing on a beige checker background, camera fixed",
];
const OTHER_EXAMPLES = [
  "a paper boat drifting down a rainy street, close-up",
  "a fox running through fresh snow at sunrise, tracking shot",
];
const images = { first: null, last: null }; // data: URLs of the picked frames
let ratioChosen = false; // the aspect ratio was picked by hand (else an image model's own)
const LONGEST_SIDE = 1920; // a picked image is scaled down to this before it is sent
const RATIOS = { "16:9": [16, 9], "4:3": [4, 3], "1:1": [1, 1], "3:4": [3, 4],
  "9:16": [9, 16], "21:9": [21, 9], "9:21": [9, 21] };

// --- first and last frames (image-to-video models) ------------------------------------------

function modelInfo() {
  return models.find((model) => model.id === $("model").value);
}

function takesFrames(model) {
  return Boolean(model && model.first_frame !== "none"); // required, or optional (1.5, 2.x)
}

function updateImageFields() {
  const model = modelInfo();
  const takes = takesFrames(model);
  showCapabilities(model);
  $("image-fields").hidden = !takes;
  const optional = model && !model.image_input ? " (optional)" : "";
  document.querySelector('label[for="first-image"]').textContent = `First frame${optional}`;
  $("last-field").hidden = !(takes && model.last_frame);
  $("adaptive-option").hidden = !takes;
  $("adaptive-option").textContent = optional ? "the first image's, else 16:9" : "the first image's";
  if (!takes && $("aspect-ratio").value === "") $("aspect-ratio").value = "16:9";
  if (takes && !ratioChosen) $("aspect-ratio").value = ""; // the image's own, unless chosen
  updatePreviews();
}

function previewRatio() {
  const chosen = RATIOS[$("aspect-ratio").value];
  if (chosen) return chosen;
  const img = document.querySelector("#first-preview img");
  return img.naturalWidth ? [img.naturalWidth, img.naturalHeight] : [16, 9];
}

function updatePreviews() {
  const [width, height] = previewRatio();
  for (const which of ["first", "last"]) {
    const box = $(`${which}-preview`);
    box.style.aspectRatio = `${width} / ${height}`;
    box.querySelector("img").src = images[which] || "";
    box.classList.toggle("empty", !images[which]);
  }
}

function showCapabilities(model) {
  if (!model) return;
  const last = model.last_frame ? " and an optional last frame" : "";
  const frames = model.image_input ? `image to video: a first frame${last}`
    : takesFrames(model) ? `text or image to video (an optional first frame${last})`
      : "text to video";
  const seconds = model.durations.filter((d) => d <= model.max_duration);
  const span = seconds.length > 2 ? `${seconds[0]}-${seconds[seconds.length - 1]} s`
    : `${seconds.join(" or ")} s`; // 4-15 s; 5 or 10 s
  const words = [frames, span, ...capabilityWords(model)];
  $("model-caps").textContent = [...words, model.backend].join(" · ");
  const animating = models.filter((m) => m.image_input).map((m) => m.id);
  const hint = $("i2v-hint");
  hint.hidden = takesFrames(model);
  hint.textContent = animating.length
    ? `To animate an image, choose ${animating.join(" or ")}.`
    : "This server serves no image-to-video model (its weights take no image).";
  applyModel(model);
  showExamples(model.backend);
}

function showExamples(backend) {
  const box = $("examples");
  const examples = backend === "builtin" ? BUILTIN_EXAMPLES : OTHER_EXAMPLES;
  if (box.dataset.backend === backend) return;
  box.dataset.backend = backend;
  box.replaceChildren(...examples.map((text) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "example";
    button.textContent = text;
    button.addEventListener("click", () => { $("prompt").value = text; $("prompt").focus(); });
    return button;
  }));
}

async function scaled(source, longest) {
  const img = new Image();
  img.src = source;
  await img.decode();
  const scale = Math.min(1, longest / Math.max(img.naturalWidth, img.naturalHeight));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(img.naturalWidth * scale);
  canvas.height = Math.round(img.naturalHeight * scale);
  canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL("image/jpeg", 0.8);
}

async function shrunk(file) {
  // EXIF orientation applied by the browser; sent as JPEG so that it fits the request limit.
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, LONGEST_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL("image/jpeg", 0.92);
}

async function pick(which, file) {
  if (!file) return;
  try {
    images[which] = await shrunk(file);
  } catch (_) {
    $("form-error").textContent = `${file.name} is not an image this browser can read.`;
    return;
  }
  const img = $(`${which}-preview`).querySelector("img");
  img.onload = updatePreviews;
  updatePreviews();
}

function watchFrames() {
  for (const which of ["first", "last"]) {
    const input = $(`${which}-image`);
    input.addEventListener("change", () => pick(which, input.files[0]));
    const box = document.querySelector(`.frame[data-which="${which}"]`);
    box.addEventListener("dragover", (event) => {
      event.preventDefault();
      box.classList.add("dropping");
    });
    box.addEventListener("dragleave", () => box.classList.remove("dropping"));
    box.addEventListener("drop", (event) => {
      event.preventDefault();
      box.classList.remove("dropping");
      pick(which, event.dataTransfer.files[0]);
    });
  }
  document.addEventListener("paste", (event) => {
    if ($("image-fields").hidden) return;
    const file = [...(event.clipboardData || {}).files || []].find((f) => f.type.startsWith("image/"));
    if (!file) return;
    event.preventDefault();
    const toLast = images.first && !$("last-field").hidden;
    pick(toLast ? "last" : "first", file);
  });
  $("model").addEventListener("change", updateImageFields);
  $("aspect-ratio").addEventListener("change", () => {
    ratioChosen = true;
    updatePreviews();
  });
}

function updateThumb(card, job) {
  // Until there is a video: the first frame of an image job, else a tile with the state.
  const thumb = card.querySelector(".thumb");
  if (!thumb) return;
  const first = storedThumbs()[job.id];
  thumb.classList.toggle("has-image", Boolean(first));
  if (first) thumb.querySelector("img").src = first;
  thumb.querySelector("span").textContent = first ? "" : job.status === "queued" ? "Queued"
    : job.status === "generating" ? "Generating…" : job.status === "completed" ? "" : "No video";
}

function storedThumbs() {
  try { return JSON.parse(localStorage.getItem(THUMBS_STORAGE)) || {}; } catch (_) { return {}; }
}

async function keepThumb(id, dataUrl) {
  const thumbs = storedThumbs();
  thumbs[id] = await scaled(dataUrl, 240);
  const ids = Object.keys(thumbs);
  for (const old of ids.slice(0, Math.max(0, ids.length - 40))) delete thumbs[old];
  try { localStorage.setItem(THUMBS_STORAGE, JSON.stringify(thumbs)); } catch (_) { /* full */ }
}

// --- settings kept across reloads ---------------------------------------------------------

function saveSettings() {
  const kept = {};
  for (const id of SETTINGS) {
    const field = $(id);
    kept[id] = field.type === "checkbox" ? field.checked : field.value;
  }
  localStorage.setItem(SETTINGS_STORAGE, JSON.stringify(kept));
}

function restoreSettings(ids) {
  let kept = {};
  try { kept = JSON.parse(localStorage.getItem(SETTINGS_STORAGE)) || {}; } catch (_) { /* none */ }
  for (const id of ids) {
    const field = $(id);
    if (!(id in kept)) continue;
    if (field.type === "checkbox") field.checked = Boolean(kept[id]);
    else if (field.tagName !== "SELECT" || [...field.options].some((o) => o.value === kept[id])) {
      field.value = kept[id];
    }
  }
  if (ids.includes("aspect-ratio") && kept["aspect-ratio"]) ratioChosen = true;
}
