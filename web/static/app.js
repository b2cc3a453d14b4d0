// baocao: drag-and-drop upload, waiting for a result, the operator's live view. Plain JS, no build.
// Everything a unit wrote is put on the page with textContent, never as markup.
"use strict";

function upload(zone, file) {
  const status = zone.querySelector(".drop-status");
  status.className = "drop-status";
  status.textContent = zone.dataset.sending;
  fetch(zone.dataset.upload, {
    method: "POST", body: file, credentials: "same-origin",
    headers: {"X-CSRF-Token": zone.dataset.csrf, "X-File-Name": encodeURIComponent(file.name),
              "Content-Type": "application/octet-stream", "Accept": "application/json"}
  }).then(r => r.json().then(body => ({ok: r.ok, body})))
    .then(({ok, body}) => {
      if (ok) { status.textContent = zone.dataset.checking; window.location.assign(body.url); }
      else { status.className = "drop-status bad"; status.textContent = body.message || body.error; }
    })
    .catch(err => { status.className = "drop-status bad"; status.textContent = String(err); });
}

function setupDrop(zone) {
  const input = zone.querySelector("input[type=file]");
  input.addEventListener("change", () => { if (input.files.length) upload(zone, input.files[0]); });
  zone.addEventListener("dragover", e => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", e => {
    e.preventDefault(); zone.classList.remove("over");
    if (e.dataTransfer.files.length) upload(zone, e.dataTransfer.files[0]);
  });
}

function waitForResult(box) {
  const tick = () => fetch(box.dataset.wait, {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(r => r.json()).then(b => { if (b.ready) window.location.reload(); else setTimeout(tick, 400); })
    .catch(() => setTimeout(tick, 2000));
  setTimeout(tick, 300);
}

function fmtPct(v, lang) {
  if (v === null || v === undefined) return "—";
  const x = Math.round(v * 1000) / 10;
  return (lang === "vi" ? String(x).replace(".", ",") : String(x)) + " %";
}

function fmtWhen(epoch, lang) {  // as the server writes it: Vietnam's clock, whatever the browser's zone
  const p = {};
  for (const x of new Intl.DateTimeFormat("en-GB", {timeZone: "Asia/Ho_Chi_Minh", hour12: false, year: "numeric",
      month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"}).formatToParts(new Date(epoch * 1000))) p[x.type] = x.value;
  if (lang === "vi") return `${p.hour}:${p.minute} ${p.day}/${p.month}/${p.year}`;
  const mon = new Intl.DateTimeFormat("en-GB", {timeZone: "Asia/Ho_Chi_Minh", month: "short"}).format(new Date(epoch * 1000));
  return `${p.day} ${mon} ${p.year} ${p.hour}:${p.minute}`;
}

function setupLive(root) {
  const labels = JSON.parse(root.dataset.labels);
  const lang = root.dataset.lang;
  const apply = st => {  // every poll, in full: cheap, and never stuck on a stale answer
    for (const r of st.rates) {
      const row = root.querySelector(`table.rates tr[data-dataset="${CSS.escape(r.dataset_code)}"]`);
      if (!row) continue;
      for (const k of ["expected", "accepted", "on_time", "late", "missing"]) {
        const c = row.querySelector(`[data-k="${k}"]`); if (c) c.textContent = r[k];
      }
      row.querySelector('[data-k="reporting_rate"]').textContent = fmtPct(r.reporting_rate, lang);
      row.querySelector('[data-k="timeliness_rate"]').textContent = fmtPct(r.timeliness_rate, lang);
    }
    for (const u of st.units) {
      const row = root.querySelector(`table.units tr[data-unit="${CSS.escape(u.unit_code)}"][data-dataset="${CSS.escape(u.dataset_code)}"]`);
      if (!row || row.dataset.state === u.state) { if (row) row.querySelector(".nv").textContent = u.n_versions; continue; }
      row.dataset.state = u.state;
      row.className = (u.state === "accepted" ? "ok" : "todo") + " changed";
      const span = row.querySelector(".st span");
      span.className = "state " + u.state; span.dataset.state = u.state; span.textContent = labels[u.state] || u.state;
      row.querySelector(".nv").textContent = u.n_versions;
    }
    for (const c of root.querySelectorAll("[data-count]")) {
      c.textContent = st.units.filter(u => u.state === c.dataset.count).length;
    }
    const hint = root.querySelector(".newdecisions");  // warnings or errors to decide came or went
    if (hint && st.warnings && st.errors) hint.hidden = (st.warnings.length + st.errors.length) === Number(hint.dataset.n);
    const up = root.querySelector(".updated");
    if (up && st.published_at) up.textContent = fmtWhen(st.published_at, lang);
  };
  const tick = () => fetch(root.dataset.live, {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(r => r.ok ? r.json() : null).then(st => { if (st) apply(st); })
    .catch(() => {}).finally(() => setTimeout(tick, 2000));
  setTimeout(tick, 2000);
  const all = root.querySelector(".show-all");
  if (all) all.addEventListener("change", () => root.classList.toggle("all", all.checked));
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".drop").forEach(setupDrop);
  document.querySelectorAll("[data-wait]").forEach(waitForResult);
  document.querySelectorAll("[data-live]").forEach(setupLive);
});
