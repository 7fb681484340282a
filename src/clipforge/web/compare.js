// ClipForge studio, the finished work: where each clip's time went (a small bar on its card)
// and two clips side by side with synced playback (seeds, models, LoRAs).
"use strict";

(() => {
  // The job's timings (native job view) in the order the work happens.
  const PHASES = [
    ["queue", "queue_wait_s"], ["load", "load_s"], ["denoise", "denoise_s"],
    ["decode", "decode_s"], ["encode", "encode_s"], ["upload", "upload_s"],
  ];
  const picked = []; // [{id, url, label}], at most two
  const latest = new Map(); // job id -> the job as last shown
  const clips = () => [...document.querySelectorAll("#compare video")];

  function seconds(value) {
    return value < 10 ? value.toFixed(1) : value.toFixed(0);
  }

  function timeBar(card, job) {
    const box = card.querySelector(".timebar");
    const parts = PHASES.map(([name, key]) => [name, Number(job.timings[key] || 0)])
      .filter(([, value]) => value > 0);
    const total = parts.reduce((sum, [, value]) => sum + value, 0);
    box.hidden = job.status !== "completed" || !total;
    if (box.hidden) return;
    box.querySelector(".segments").replaceChildren(...parts.map(([name, value]) => {
      const segment = document.createElement("span");
      segment.className = `segment ${name}`;
      segment.style.flexGrow = String(value);
      segment.title = `${name} ${seconds(value)} s`;
      return segment;
    }));
    box.querySelector(".times").textContent = `${seconds(total)} s: ` +
      parts.map(([name, value]) => `${name} ${seconds(value)}`).join(" · ");
  }

  function label(job) {
    const r = job.request;
    return `${r.model.replace("bytedance/", "")} · seed ${r.seed} · ${r.prompt}`;
  }

  function choose(job, on) {
    const at = picked.findIndex((p) => p.id === job.id);
    if (at >= 0) picked.splice(at, 1);
    if (on) {
      picked.push({ id: job.id, url: job.video_url, label: label(job) });
      while (picked.length > 2) uncheck(picked.shift().id);
    }
    const button = document.getElementById("compare-open");
    button.disabled = picked.length < 2;
    button.textContent = `Compare (${picked.length}/2)`;
  }

  function uncheck(id) {
    const box = document.querySelector(`.card[data-job-id="${CSS.escape(id)}"] .compare-pick`);
    if (box) box.checked = false;
  }

  function updateCard(card, job) {
    timeBar(card, job);
    const pick = card.querySelector(".pick");
    pick.hidden = !job.video_url;
    const box = pick.querySelector("input");
    latest.set(job.id, job);
    if (!box.dataset.wired) {
      box.dataset.wired = "1";
      box.addEventListener("change", () => choose(latest.get(job.id), box.checked));
    }
    const chosen = picked.find((p) => p.id === job.id);
    if (chosen) chosen.url = job.video_url;
  }

  function forget(id) {
    latest.delete(id);
    choose({ id }, false);
  }

  function open() {
    const section = document.getElementById("compare");
    const figures = section.querySelectorAll("figure");
    picked.forEach((clip, index) => {
      const video = figures[index].querySelector("video");
      video.src = clip.url;
      video.setAttribute("aria-label", `Compared clip ${index + 1}: ${clip.label}`);
      figures[index].querySelector("figcaption").textContent = clip.label;
    });
    section.hidden = false;
    section.scrollIntoView({ block: "nearest" });
  }

  function playBoth() {
    const [a, b] = clips();
    const playing = !a.paused;
    for (const video of [a, b]) {
      if (playing) video.pause();
      else { video.currentTime = a.ended ? 0 : a.currentTime; video.play(); }
    }
    document.getElementById("compare-play").textContent = playing ? "Play both" : "Pause both";
  }

  function keepInStep() {
    // The left clip leads: the right one follows its seeks and drifts back when it strays.
    const [a, b] = clips();
    a.addEventListener("seeked", () => { b.currentTime = a.currentTime; });
    a.addEventListener("timeupdate", () => {
      if (!a.paused && Math.abs(b.currentTime - a.currentTime) > 0.15) b.currentTime = a.currentTime;
    });
    a.addEventListener("ended", () => {
      b.pause();
      document.getElementById("compare-play").textContent = "Play both";
    });
  }

  function close() {
    for (const video of clips()) { video.pause(); video.removeAttribute("src"); video.load(); }
    document.getElementById("compare").hidden = true;
  }

  document.getElementById("compare-open").addEventListener("click", open);
  document.getElementById("compare-play").addEventListener("click", playBoth);
  document.getElementById("compare-close").addEventListener("click", close);
  keepInStep();
  window.studioExtras = { updateCard, forget };
})();
