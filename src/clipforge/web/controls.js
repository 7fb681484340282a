// ClipForge studio, the controls the chosen model id drives, all from GET /v1/models (the
// table the API validates with, served: no copy of it here): durations, resolutions, aspect
// ratios, the sound switch, and reference images (pick or drop, previews, remove). Loaded
// after form.js and before app.js, whose start() calls watchReferences.
"use strict";

const references = []; // data: URLs of the picked reference images, in order (@Image1...)

function fillSelect(select, values, label, fallback) {
  // The model's values; the user's choice kept where the new model takes it too.
  const chosen = select.value;
  select.replaceChildren(...values.map((value) => new Option(label(value), String(value))));
  select.value = values.map(String).includes(chosen) ? chosen : String(fallback);
}

function applyModel(model) {
  const durations = model.durations.filter((d) => d <= model.max_duration);
  const usual = durations.includes(model.default_duration) ? model.default_duration : durations[0];
  fillSelect($("duration"), durations, (d) => `${d} seconds`, usual);
  fillSelect($("resolution"), model.resolutions, (r) => r, model.default_resolution);
  applyRatios(model);
  $("sound-field").hidden = !model.sound;
  $("references").hidden = !model.reference_images;
  $("references-limit").textContent = `(up to ${model.reference_images})`;
  references.splice(model.reference_images); // more than this model takes: dropped
  showReferences();
}

function applyRatios(model) {
  const select = $("aspect-ratio");
  const chosen = select.value;
  const ratios = model.aspect_ratios.filter((ratio) => ratio !== "adaptive");
  select.replaceChildren($("adaptive-option"), ...ratios.map((ratio) => new Option(ratio, ratio)));
  select.value = chosen === "" || ratios.includes(chosen) ? chosen : ratios[0];
}

function capabilityWords(model) {
  const words = [];
  if (model.sound) words.push("sound");
  if (model.reference_images) words.push(`up to ${model.reference_images} reference images`);
  return words;
}

// --- reference images -------------------------------------------------------------------------

function showReferences() {
  const list = $("reference-list");
  list.replaceChildren(...references.map((source, index) => {
    const name = `@Image${index + 1}`;
    const item = document.createElement("li");
    const img = document.createElement("img");
    img.src = source;
    img.alt = `Reference ${name}`;
    const caption = document.createElement("span");
    caption.textContent = name;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `Remove ${name}`);
    remove.addEventListener("click", () => {
      references.splice(index, 1);
      showReferences();
    });
    item.append(img, caption, remove);
    return item;
  }));
  const model = modelInfo();
  const room = model ? model.reference_images - references.length : 0;
  $("reference-images").disabled = room <= 0;
}

async function addReferences(files) {
  const model = modelInfo();
  for (const file of files) {
    if (!model || references.length >= model.reference_images) {
      const most = model ? model.reference_images : 0;
      $("form-error").textContent = `This model takes at most ${most} reference images.`;
      break;
    }
    try {
      references.push(await shrunk(file));
    } catch (_) {
      $("form-error").textContent = `${file.name} is not an image this browser can read.`;
    }
  }
  showReferences();
}

function watchReferences() {
  const input = $("reference-images");
  input.addEventListener("change", async () => {
    await addReferences([...input.files]);
    input.value = ""; // the same file may be picked again
  });
  const box = $("references");
  box.addEventListener("dragover", (event) => {
    event.preventDefault();
    box.classList.add("dropping");
  });
  box.addEventListener("dragleave", () => box.classList.remove("dropping"));
  box.addEventListener("drop", (event) => {
    event.preventDefault();
    box.classList.remove("dropping");
    addReferences([...event.dataTransfer.files].filter((f) => f.type.startsWith("image/")));
  });
}

function withModelFields(body, model) {
  // What the model's own controls add to a request: sound, reference images.
  if (model.sound) body.generate_audio = $("generate-audio").checked;
  if (model.reference_images && references.length) body.image_urls = [...references];
  return body;
}
