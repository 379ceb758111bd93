// The gallery: renders jobs from /v1/jobs and keeps them current from /v1/events (SSE).
// It runs under the app's Content-Security-Policy: no inline code or style, no eval.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const jobsEl = document.getElementById("jobs");
const cardTemplate = document.getElementById("card");
const deliveryTemplate = document.getElementById("delivery");
const searchEl = document.getElementById("search");
const filterEl = document.getElementById("status");
const moreEl = document.getElementById("more");
const countEl = document.getElementById("count");
const PAGE_SIZE = 100;
const EVENT_TYPES = ["job.submitted", "job.pending", "job.processing", "job.completed",
  "job.failed", "job.cancelled", "job.expired", "job.submit_failed", "job.attention",
  "job.confirmed", "asset.stored", "archive.failed", "archive.requeued", "archive.retried"];
// Times in the viewer's own zone, with the zone named: "Nov 25, 2026, 05:20:01 PM GMT+9".
const TIME = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric",
  hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short",
});

const jobs = new Map();
// What the last replay of a delivery came to, by delivery id: shown under it until reload.
const verdicts = new Map();
// The list as the server pages it for the current filter: where the next page starts (null
// at the end), and how many jobs the filter has (null while the API does not say).
let cursor = null;
let total = null;
// Bumped when the filter changes, so that a page of the previous filter arriving late is
// not taken for one of this filter.
let generation = 0;

function size(bytes) {
  if (bytes == null) return "";
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

function showTime(element, iso) {
  if (!iso) { element.textContent = ""; return; }
  element.dateTime = iso;
  element.textContent = TIME.format(new Date(iso));
  element.title = `${iso} (UTC)`;
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

// --- copying -------------------------------------------------------------------------------

// navigator.clipboard exists in secure contexts only (https, or localhost through a tunnel);
// elsewhere the browser's older copy command still works from a click.
function copyBySelection(text) {
  const area = document.createElement("textarea");
  area.value = text;
  area.readOnly = true;
  area.className = "offscreen";
  document.body.appendChild(area);
  area.select();
  let copied = false;
  try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
  area.remove();
  return copied;
}

async function copy(text, button) {
  let copied = false;
  try {
    await navigator.clipboard.writeText(text);
    copied = true;
  } catch (error) {
    copied = copyBySelection(text);
  }
  button.dataset.label = button.dataset.label || button.textContent;
  button.textContent = copied ? "Copied" : "Copy failed";
  clearTimeout(button.timer);
  button.timer = setTimeout(() => { button.textContent = button.dataset.label; }, 1500);
}

// --- filtering and counting ----------------------------------------------------------------

function matches(job) {
  const filter = filterEl.value;
  if (filter === "attention" ? !job.attention : filter && job.status !== filter) return false;
  const text = searchEl.value.trim().toLowerCase();
  return !text || job.prompt.toLowerCase().includes(text) || job.id.toLowerCase().includes(text);
}

function showCount() {
  const shown = [...jobsEl.children].filter((card) => !card.hidden).length;
  const searching = searchEl.value.trim() !== "";
  const counted = total != null && !searching && filterEl.value !== "attention";
  let text = counted ? `${shown} of ${total} jobs` : `${shown} ${shown === 1 ? "job" : "jobs"}`;
  if (cursor) text += " · more to load below";
  countEl.textContent = jobs.size ? text : "";
  document.getElementById("empty").hidden = jobs.size > 0;
  document.getElementById("nomatch").hidden = jobs.size === 0 || shown > 0;
}

function renderAll() {
  jobs.forEach((job) => render(job));
  showCount();
}

// --- a job's files ------------------------------------------------------------------------

// Every stored file of a job, in the order of its task's results. A page of the list carries
// the first file only: until the job is read whole, that one stands for all.
function assetsOf(job) {
  return job.assets || (job.asset ? [job.asset] : []);
}

function kindOf(asset) {
  const type = asset.content_type || "";
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("audio/")) return "audio";
  return "video";
}

// The address of result N's file: it redirects to the stored object (a presigned URL).
function assetPath(jobId, asset) {
  const index = asset.result_index || 0;
  return `/v1/jobs/${jobId}/video${index ? `?index=${index}` : ""}`;
}

function player(jobId, asset) {
  const kind = kindOf(asset);
  const element = document.createElement(kind === "image" ? "img" : kind);
  element.src = assetPath(jobId, asset);
  if (kind === "image") {
    element.alt = `result ${asset.result_index || 0}`;
    element.loading = "lazy";
  } else {
    element.controls = true;
    element.preload = "metadata";
  }
  return element;
}

function assetFacts(asset) {
  return [
    `#${asset.result_index || 0}`,
    asset.duration_seconds != null ? `${+asset.duration_seconds.toFixed(1)}s` : "",
    asset.width && asset.height ? `${asset.width}×${asset.height}` : "",
    size(asset.size_bytes),
  ].filter(Boolean).join(" · ");
}

// One file of a job with several: its player, its facts, its own download and links.
function assetFigure(jobId, asset) {
  const figure = document.createElement("figure");
  figure.className = `asset ${kindOf(asset)}`;
  figure.appendChild(player(jobId, asset));
  const caption = document.createElement("figcaption");
  const facts = document.createElement("span");
  facts.className = "asset-facts";
  facts.textContent = assetFacts(asset);
  const download = document.createElement("a");
  download.className = "button asset-download";
  download.target = "_blank";
  download.rel = "noopener";
  download.href = assetPath(jobId, asset);
  download.textContent = "Download";
  const link = document.createElement("button");
  link.type = "button";
  link.className = "quiet asset-copy-link";
  link.textContent = "Copy link";
  link.addEventListener("click", (event) =>
    copy(`${location.origin}${assetPath(jobId, asset)}`, event.currentTarget));
  const uri = document.createElement("button");
  uri.type = "button";
  uri.className = "quiet asset-copy-uri";
  uri.textContent = "Copy S3";
  uri.title = asset.uri;
  uri.addEventListener("click", (event) => copy(asset.uri, event.currentTarget));
  caption.append(facts, download, link, uri);
  figure.appendChild(caption);
  return figure;
}

function renderMedia(card, job, assets) {
  const media = card.querySelector(".media");
  // Rebuilt only when the files change: a render must not stop what is playing.
  const shown = assets.map((asset) => `${asset.result_index || 0}:${asset.key}`).join(" ");
  if (!assets.length) {
    delete media.dataset.assets;
    media.classList.remove("several");
    media.textContent = job.status;
    return;
  }
  if (media.dataset.assets === shown) return;
  media.dataset.assets = shown;
  media.textContent = "";
  media.classList.toggle("several", assets.length > 1);
  if (assets.length === 1) {
    media.appendChild(player(job.id, assets[0]));
    return;
  }
  for (const asset of assets) media.appendChild(assetFigure(job.id, asset));
}

// A stored job from a page of the list is read whole once its card comes into view, to
// show every file it has (not all jobs at once: a page holds a hundred).
const scheduled = new Set();
const reader = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    reader.unobserve(entry.target);
    refresh(entry.target.id);
  }
});

function readWholeWhenSeen(card, job) {
  if (!job.asset || job.assets || scheduled.has(job.id)) return;
  scheduled.add(job.id);
  reader.observe(card);
}

// --- one job -------------------------------------------------------------------------------

function newCard(jobId) {
  const card = cardTemplate.content.firstElementChild.cloneNode(true);
  card.id = jobId;
  card.querySelector(".copy-id").addEventListener("click",
    (event) => copy(jobId, event.currentTarget));
  card.querySelector(".copy-uri").addEventListener("click",
    (event) => copy(jobs.get(jobId).asset.uri, event.currentTarget));
  card.querySelector(".copy-link").addEventListener("click",
    (event) => copy(`${location.origin}${assetPath(jobId, jobs.get(jobId).asset)}`,
      event.currentTarget));
  card.querySelector(".retry").addEventListener("click",
    () => act(`/v1/jobs/${jobId}/retry`, jobId));
  const deliveries = card.querySelector(".deliveries");
  deliveries.addEventListener("toggle", () => { if (deliveries.open) refresh(jobId); });
  return card;
}

function render(job, fresh = false) {
  let card = document.getElementById(job.id);
  if (!card) {
    card = newCard(job.id);
    // Ids sort by creation time: keep the newest first.
    const before = [...jobsEl.children].find((other) => other.id < job.id);
    jobsEl.insertBefore(card, before || null);
  }
  card.classList.toggle("fresh", fresh);
  const asset = job.asset;
  const assets = assetsOf(job);
  // One file: the card's own actions are its; several: each file has its own.
  const single = assets.length === 1 ? assets[0] : null;
  renderMedia(card, job, assets);
  readWholeWhenSeen(card, job);
  const status = card.querySelector(".status");
  status.textContent = job.status;
  status.className = `status ${job.status}`;
  showTime(card.querySelector(".top time"), job.created_at);
  card.querySelector(".prompt").textContent = job.prompt;
  const seconds = asset && asset.duration_seconds != null ? asset.duration_seconds
    : job.params && job.params.duration;
  const credits = job.credits_reserved != null ? `${+job.credits_reserved.toFixed(2)} credits` : "";
  const kinds = new Set(assets.map(kindOf));
  const plural = { image: "images", video: "videos", audio: "audio files" };
  const count = assets.length > 1
    ? `${assets.length} ${kinds.size === 1 ? plural[[...kinds][0]] : "files"}` : "";
  card.querySelector(".facts").textContent = [
    job.model,
    count,
    assets.length < 2 && seconds ? `${seconds}s` : "",
    single && single.width && single.height ? `${single.width}×${single.height}` : "",
    assets.length ? size(assets.reduce((sum, each) => sum + (each.size_bytes || 0), 0)) : "",
    credits,
  ].filter(Boolean).join(" · ");
  card.querySelector(".attention").textContent =
    job.attention || (job.error && job.error.message) || "";
  card.querySelector(".job-id").textContent = job.id;
  for (const element of card.querySelectorAll(".asset-only")) element.hidden = !single;
  card.querySelector(".uri").textContent = single ? single.uri : "";
  // The address redirects to the stored object, on the bucket's origin. A `download`
  // attribute would not survive that redirect (Chromium then navigates this page away):
  // the file opens in a tab of its own, to be saved from there.
  if (single) card.querySelector(".download").href = assetPath(job.id, single);
  card.querySelector(".retry").hidden =
    !(job.status === "expired" || (job.attention && /archiv/.test(job.attention)));
  if (job.deliveries) renderDeliveries(card, job);
  card.hidden = !matches(job);
}

function renderDeliveries(card, job) {
  card.querySelector(".deliveries summary").textContent = `Deliveries (${job.deliveries.length})`;
  const list = card.querySelector(".delivery-list");
  list.textContent = "";
  if (!job.deliveries.length) {
    const none = document.createElement("li");
    none.textContent = "No callback has arrived yet.";
    list.appendChild(none);
  }
  for (const delivery of job.deliveries) {
    const item = deliveryTemplate.content.firstElementChild.cloneNode(true);
    item.id = delivery.id;
    const outcome = item.querySelector(".outcome");
    outcome.textContent = delivery.outcome;
    outcome.className = `outcome ${delivery.outcome}`;
    showTime(item.querySelector("time"), delivery.received_at);
    item.querySelector(".delivery-facts").textContent = [
      delivery.source,
      delivery.provider_status && `status ${delivery.provider_status}`,
      delivery.client_addr && `from ${delivery.client_addr}`,
      delivery.body_size != null ? size(delivery.body_size) : "",
    ].filter(Boolean).join(" · ");
    item.querySelector(".reason").textContent = delivery.reason || "";
    const replay = item.querySelector(".replay");
    replay.hidden = delivery.outcome !== "rejected";
    replay.addEventListener("click", () => replayDelivery(delivery.id, job.id));
    item.querySelector(".verdict").textContent = verdicts.get(delivery.id) || "";
    list.appendChild(item);
  }
}

function remember(job, fresh = false) {
  // A page of the list carries no deliveries, and only the first file: keep what a
  // detailed read brought.
  const known = jobs.get(job.id);
  const merged = known ? {
    ...job,
    deliveries: job.deliveries || known.deliveries,
    assets: job.assets || (job.asset && known.assets) || undefined,
  } : job;
  jobs.set(job.id, merged);
  render(merged, fresh);
}

async function act(path, jobId) {
  const response = await api(path, { method: "POST", body: "{}" });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    alert(problem.message || `failed (${response.status})`);
  }
  await refresh(jobId);
}

async function replayDelivery(deliveryId, jobId) {
  const response = await api(`/v1/deliveries/${deliveryId}/replay`, { method: "POST", body: "{}" });
  const answer = await response.json().catch(() => ({}));
  // A replay that changes nothing records nothing: its verdict is all there is to see.
  verdicts.set(deliveryId, response.ok
    ? `Replayed: ${String(answer.verdict).replace(/_/g, " ")}${answer.reason ? ` (${answer.reason})` : ""}`
    : `Replay refused: ${answer.message || response.status}`);
  await refresh(jobId);
}

async function refresh(jobId, fresh = false) {
  const response = await api(`/v1/jobs/${jobId}`);
  if (!response.ok) return;
  remember(await response.json(), fresh);
  showCount();
}

// --- the list ------------------------------------------------------------------------------

// The list's address for the current filter ("needs attention" is the gallery's own: the API
// has no such filter, so it reads every job and the page hides the others).
function listPath(limit, after) {
  const query = new URLSearchParams({ limit: String(limit) });
  const filter = filterEl.value;
  if (filter && filter !== "attention") query.set("status", filter);
  if (after) query.set("cursor", after);
  return `/v1/jobs?${query}`;
}

async function loadPage() {
  const mine = generation;
  moreEl.disabled = true;
  try {
    const response = await api(listPath(PAGE_SIZE, cursor));
    if (!response.ok) {
      countEl.textContent = `Could not load the jobs (${response.status}).`;
      return null;
    }
    const page = await response.json();
    if (mine === generation) {
      for (const job of page.jobs) remember(job);
      cursor = page.next_cursor;
      total = typeof page.total === "number" ? page.total : null;
      moreEl.hidden = !cursor;
      showCount();
    }
    return page;
  } finally {
    moreEl.disabled = false;
  }
}

// Live changes move jobs in and out of the filter's count: read it again, at most once a
// second however many events arrive.
let recounting = null;
function recountSoon() {
  if (recounting || total == null) return;
  recounting = setTimeout(async () => {
    const mine = generation;
    try {
      const response = await api(listPath(1, null));
      const page = response.ok ? await response.json() : null;
      if (page && mine === generation && typeof page.total === "number") {
        total = page.total;
        showCount();
      }
    } finally {
      recounting = null;
    }
  }, 1000);
}

function filterChanged() {
  // Hide what no longer matches at once; then ask the server for this filter's newest jobs,
  // which may be older than anything loaded so far.
  generation += 1;
  cursor = null;
  total = null;
  renderAll();
  loadPage();
}

async function start() {
  const page = await loadPage();
  if (!page) return;
  // Follow the live feed from just before this page was read: nothing is missed.
  const events = new EventSource(`/v1/events?after=${page.last_event_seq}`);
  const live = document.getElementById("live");
  events.onopen = () => live.classList.add("on");
  events.onerror = () => live.classList.remove("on");
  for (const type of EVENT_TYPES) {
    events.addEventListener(type, (message) => {
      refresh(JSON.parse(message.data).job_id, true);
      recountSoon();
    });
  }
}

searchEl.addEventListener("input", renderAll);
filterEl.addEventListener("change", filterChanged);
moreEl.addEventListener("click", loadPage);
start();
