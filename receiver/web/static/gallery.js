// The gallery: renders jobs from /v1/jobs and keeps them current from /v1/events (SSE).
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const jobsEl = document.getElementById("jobs");
const template = document.getElementById("card");
const searchEl = document.getElementById("search");
const statusEl = document.getElementById("status");
const jobs = new Map();
const EVENT_TYPES = ["job.submitted", "job.pending", "job.processing", "job.completed",
  "job.failed", "job.cancelled", "job.expired", "job.submit_failed", "job.attention",
  "job.confirmed", "asset.stored", "archive.failed", "archive.requeued", "archive.retried"];

function size(bytes) {
  if (bytes == null) return "";
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    credentials: "same-origin",
    ...options,
    headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json", ...(options.headers || {}) },
  });
  if (response.status === 401) location.reload();  // the session expired: sign in again
  return response;
}

function matches(job) {
  const status = statusEl.value;
  const text = searchEl.value.trim().toLowerCase();
  if (status && job.status !== status) return false;
  return !text || job.prompt.toLowerCase().includes(text) || job.id.toLowerCase().includes(text);
}

function button(label, onClick) {
  const element = document.createElement("button");
  element.textContent = label;
  element.addEventListener("click", onClick);
  return element;
}

function render(job, fresh = false) {
  let card = document.getElementById(job.id);
  if (!card) {
    card = template.content.firstElementChild.cloneNode(true);
    card.id = job.id;
    // Ids sort by creation time: keep the newest first.
    const before = [...jobsEl.children].find((other) => other.id < job.id);
    jobsEl.insertBefore(card, before || null);
  }
  card.classList.toggle("fresh", fresh);
  const media = card.querySelector(".media");
  if (job.asset) {
    if (!media.querySelector("video")) {
      media.textContent = "";
      const video = document.createElement("video");
      video.controls = true;
      video.preload = "metadata";
      video.src = `/v1/jobs/${job.id}/video`;
      media.appendChild(video);
    }
  } else {
    media.textContent = job.status;
  }
  const status = card.querySelector(".status");
  status.textContent = job.status;
  status.className = `status ${job.status}`;
  card.querySelector("time").textContent = new Date(job.created_at).toLocaleString();
  card.querySelector(".prompt").textContent = job.prompt;
  const asset = job.asset;
  const seconds = asset && asset.duration_seconds != null ? asset.duration_seconds
    : job.params && job.params.duration;
  const duration = seconds ? `${seconds}s` : "";
  const resolution = asset && asset.width && asset.height ? `${asset.width}×${asset.height}` : "";
  card.querySelector(".facts").textContent =
    [job.model, duration, resolution, asset ? size(asset.size_bytes) : ""]
      .filter(Boolean).join(" · ");
  card.querySelector(".attention").textContent =
    job.attention || (job.error && job.error.message) || "";
  const actions = card.querySelector(".actions");
  actions.textContent = "";
  if (job.status === "expired" || (job.attention && /archiv/.test(job.attention))) {
    actions.appendChild(button("Retry archive", () => act(`/v1/jobs/${job.id}/retry`, job.id)));
  }
  for (const delivery of job.deliveries || []) {
    if (delivery.outcome === "rejected") {
      actions.appendChild(button(`Replay ${delivery.id.slice(-6)}`,
        () => act(`/v1/deliveries/${delivery.id}/replay`, job.id)));
    }
  }
  card.hidden = !matches(job);
  document.getElementById("empty").hidden = jobs.size > 0;
}

async function act(path, jobId) {
  const response = await api(path, { method: "POST", body: "{}" });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    alert(problem.message || `failed (${response.status})`);
  }
  await refresh(jobId);
}

async function refresh(jobId, fresh = false) {
  const response = await api(`/v1/jobs/${jobId}`);
  if (!response.ok) return;
  const job = await response.json();
  jobs.set(job.id, job);
  render(job, fresh);
}

async function load() {
  const page = await (await api("/v1/jobs?limit=100")).json();
  for (const job of page.jobs) {
    jobs.set(job.id, job);
    render(job);
  }
  document.getElementById("empty").hidden = jobs.size > 0;
  // Follow the live feed from just before this page was read: nothing is missed.
  const events = new EventSource(`/v1/events?after=${page.last_event_seq}`);
  const live = document.getElementById("live");
  events.onopen = () => live.classList.add("on");
  events.onerror = () => live.classList.remove("on");
  for (const type of EVENT_TYPES) {
    events.addEventListener(type, (message) => refresh(JSON.parse(message.data).job_id, true));
  }
}

searchEl.addEventListener("input", () => jobs.forEach((job) => render(job)));
statusEl.addEventListener("change", () => jobs.forEach((job) => render(job)));
load();
