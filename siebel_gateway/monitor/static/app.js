// siebel-gateway monitor console: plain JS, no build step, no CDN.
// Data: one EventSource (/api/events) -> a snapshot, then per-tick deltas; the table renders
// one page of the filtered, sorted rows, so 10,000 agents cost one page of DOM.
"use strict";

const PAGE = 50;
const agents = new Map();          // agent id -> row
let status = null;
let sortKey = "agent_id", sortDesc = false, page = 0;
let selected = "", detailTimer = 0, renderQueued = false;
const $ = (id) => document.getElementById(id);
window.monitorLoadedAt = Date.now();  // the browser test checks the page never reloads

function text(el, value) { el.textContent = value == null ? "" : String(value); }
function el(tag, cls, value) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (value !== undefined) text(e, value);
  return e;
}
function clock(iso) { return iso ? new Date(iso).toLocaleTimeString() : "–"; }
function ago(iso) {
  if (!iso) return "never";
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (s < 60) return s + " s ago";
  if (s < 3600) return Math.floor(s / 60) + " min ago";
  return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min ago";
}
function duration(seconds) {
  const s = Math.floor(seconds);
  return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}

// -- status -------------------------------------------------------------------------------
function card(id, value, cls, sub) {
  const c = $(id);
  const v = c.querySelector(".value");
  text(v, value);
  v.className = "value " + (cls || "");
  text(c.querySelector(".sub"), sub);
}

function renderStatus() {
  if (!status) return;
  const ready = $("ready");
  text(ready, status.ready ? "READY" : "NOT READY");
  ready.className = "badge " + (status.ready ? "ok" : "bad");
  ready.title = Object.entries(status.checks).map(([k, v]) => k + ": " + v).join("\n");
  text($("meta"), "v" + status.version + " · up " + duration(status.uptime_seconds).replace(/:\d\d$/, " min")
       + " · " + status.agents.total + " agents");
  const scs = status.scs;
  card("card-scs", scs.listening ? "listening" : "NOT listening", scs.listening ? "up" : "down",
       scs.address + " · " + scs.connections + " connection(s)");
  const link = status.link;
  card("card-link", link.up ? "up" : "DOWN", link.up ? "up" : "down",
       "since " + clock(link.since) + " (" + ago(link.since) + ") · reconnects " + link.reconnects
       + (link.up ? "" : " · " + link.reason));
  const gc = status.gcs[0];
  if (gc) {
    card("card-gc", gc.in_service ? "in service" : "NOT in service", gc.in_service ? "up" : "down",
         gc.queue + " · since " + clock(gc.since) + " (" + ago(gc.since) + ")");
  }
  card("card-admin", status.admin_actions ? "enabled" : "read-only", "",
       status.admin_actions ? "token required" : "no admin token configured");
  $("d-logout").hidden = !status.admin_actions || !selected;
  renderErrors(status.errors);
}

function renderErrors(errors) {
  const list = $("errors");
  list.replaceChildren();
  if (!errors.length) { list.append(el("li", "dim", "none")); return; }
  for (const e of errors.slice().reverse()) {
    const li = el("li", "l-" + e.level);
    text(li, clock(e.time) + "  " + e.level.toUpperCase() + "  " + (e.agent_id ? "[" + e.agent_id + "] " : "") + e.text);
    list.append(li);
  }
}

// -- agent table --------------------------------------------------------------------------
function queueRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => { renderQueued = false; renderTable(); });
}

function compare(a, b) {
  const x = a[sortKey], y = b[sortKey];
  const r = typeof x === "number" ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
  return (sortDesc ? -r : r) || a.agent_id.localeCompare(b.agent_id, undefined, { numeric: true });
}

function renderTable() {
  const q = $("filter").value.trim();
  const state = $("state-filter").value;
  const counts = {};
  const rows = [];
  for (const a of agents.values()) {
    counts[a.state] = (counts[a.state] || 0) + 1;
    if (state && a.state !== state) continue;
    if (q && !a.agent_id.includes(q) && !a.extension.includes(q)) continue;
    rows.push(a);
  }
  rows.sort(compare);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  page = Math.min(page, pages - 1);
  // Rows are updated in place (never replaced), so a click is not lost to a re-render.
  const body = document.querySelector("#agents tbody");
  const shown = rows.slice(page * PAGE, page * PAGE + PAGE);
  shown.forEach((a, i) => {
    let tr = body.children[i];
    if (!tr) {
      tr = el("tr");
      for (const cls of ["id", "", "state", "", "", "calls", ""]) tr.append(el("td", cls));
      body.append(tr);
    }
    tr.dataset.agent = a.agent_id;
    tr.className = a.agent_id === selected ? "selected" : "";
    const cells = tr.children;
    const values = [a.agent_id, a.extension, a.state, a.reason, a.pending_state, a.calls, a.connection];
    values.forEach((v, j) => { if (cells[j].textContent !== String(v)) text(cells[j], v); });
    cells[2].className = "state s-" + a.state;
  });
  while (body.children.length > shown.length) body.lastElementChild.remove();
  text($("page"), rows.length ? "rows " + (page * PAGE + 1) + "–" + Math.min(rows.length, (page + 1) * PAGE)
       + " of " + rows.length : "no agents");
  $("prev").disabled = page === 0;
  $("next").disabled = page >= pages - 1;
  renderCounts(counts);
}

const chips = new Map();            // state -> its chip, updated in place (a click must
                                    // never land on a chip replaced a moment before)
function renderCounts(counts) {
  const box = $("counts");
  const select = $("state-filter");
  const current = select.value;
  const states = Object.keys(counts).sort();
  for (const [s, chip] of chips) if (!(s in counts)) { chip.remove(); chips.delete(s); }
  states.forEach((s, i) => {
    let chip = chips.get(s);
    if (!chip) {
      chip = el("span", "chip");
      chip.dataset.state = s;
      chips.set(s, chip);
    }
    if (box.children[i] !== chip) box.insertBefore(chip, box.children[i] || null);
    text(chip, s + " " + counts[s]);
    chip.classList.toggle("on", current === s);
  });
  const known = Array.from(select.options).map((o) => o.value);
  for (const s of states) if (!known.includes(s)) select.append(new Option(s, s));
}

// -- agent detail -------------------------------------------------------------------------
function select(id) {
  selected = id;
  clearInterval(detailTimer);
  $("detail-empty").hidden = !!id;
  $("detail-body").hidden = !id;
  $("d-logout").hidden = !id || !(status && status.admin_actions);
  text($("d-logout-result"), "");
  queueRender();
  if (id) { loadDetail(); detailTimer = setInterval(loadDetail, 1000); }
}

async function loadDetail() {
  const id = selected;
  if (!id) return;
  const r = await fetch("/api/agents/" + encodeURIComponent(id), { cache: "no-store" });
  if (id !== selected) return;
  if (r.status === 404) { text($("d-title"), "Agent " + id + " (gone)"); return; }
  const a = await r.json();
  text($("d-title"), "Agent " + a.agent_id);
  const facts = $("d-facts");
  facts.replaceChildren();
  for (const [k, v] of [["State", a.state], ["Reason", a.reason + (a.reason_label ? " (" + a.reason_label + ")" : "")],
                        ["Pending", a.pending_state], ["Extension", a.extension],
                        ["SCS connection", a.scs_connection.id + (a.scs_connection.peer ? " from " + a.scs_connection.peer : "")]]) {
    facts.append(el("dt", "", k), el("dd", k === "State" ? "state s-" + a.state : "", v || "–"));
  }
  const calls = document.querySelector("#d-calls tbody");
  calls.replaceChildren();
  for (const c of a.calls) {
    const tr = el("tr");
    tr.dataset.call = c.tracking_id;
    tr.append(el("td", "", c.tracking_id), el("td", "", c.type), el("td", "call-state s-" + c.state, c.state),
              el("td", "", duration(c.duration_seconds)), el("td", "", c.other_party || c.ani));
    calls.append(tr);
  }
  if (!a.calls.length) {
    const tr = el("tr"); const td = el("td", "dim", "no calls"); td.colSpan = 5; tr.append(td); calls.append(tr);
  }
  const events = $("d-events");
  events.replaceChildren();
  for (const e of a.events.slice().reverse()) {
    events.append(el("li", "k-" + e.kind, clock(e.time) + "  " + e.name
                     + (e.detail ? "  " + e.detail : "") + (e.tracking_id ? "  #" + e.tracking_id : "")));
  }
}

async function forceLogout(ev) {
  ev.preventDefault();
  const token = $("d-token").value;
  sessionStorage.setItem("monitorToken", token);
  const r = await fetch("/api/admin/force-logout", {
    method: "POST", headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token },
    body: JSON.stringify({ agent: selected, reason: $("d-reason").value, operator: "console" }),
  });
  const body = await r.json();
  text($("d-logout-result"), body.message || body.error);
}

// -- live stream --------------------------------------------------------------------------
function connect() {
  const es = new EventSource("/api/events");
  es.addEventListener("open", () => { text($("live"), "● live"); });
  es.addEventListener("error", () => { text($("live"), "○ reconnecting…"); });
  es.addEventListener("snapshot", (m) => {
    const d = JSON.parse(m.data);
    agents.clear();
    for (const a of d.agents) agents.set(a.agent_id, a);
    status = d.status;
    renderStatus();
    queueRender();
  });
  es.addEventListener("agents", (m) => {
    const d = JSON.parse(m.data);
    for (const a of d.upsert) agents.set(a.agent_id, a);
    for (const id of d.remove) agents.delete(id);
    if (selected && (d.upsert.some((a) => a.agent_id === selected) || d.remove.includes(selected))) loadDetail();
    queueRender();
  });
  es.addEventListener("status", (m) => { status = JSON.parse(m.data); renderStatus(); });
}

document.addEventListener("DOMContentLoaded", () => {
  $("filter").addEventListener("input", () => { page = 0; queueRender(); });
  $("state-filter").addEventListener("change", () => { page = 0; queueRender(); });
  $("counts").addEventListener("click", (e) => {
    const s = e.target.dataset && e.target.dataset.state;
    if (!s) return;
    $("state-filter").value = $("state-filter").value === s ? "" : s;
    page = 0; queueRender();
  });
  $("prev").addEventListener("click", () => { page = Math.max(0, page - 1); queueRender(); });
  $("next").addEventListener("click", () => { page += 1; queueRender(); });
  document.querySelector("#agents thead").addEventListener("click", (e) => {
    const key = e.target.dataset && e.target.dataset.key;
    if (!key) return;
    sortDesc = key === sortKey ? !sortDesc : false;
    sortKey = key;
    for (const th of document.querySelectorAll("#agents th")) {
      th.classList.toggle("sorted", th.dataset.key === sortKey);
      th.classList.toggle("desc", th.dataset.key === sortKey && sortDesc);
    }
    queueRender();
  });
  document.querySelector("#agents tbody").addEventListener("click", (e) => {
    const tr = e.target.closest("tr");
    if (tr && tr.dataset.agent) select(tr.dataset.agent === selected ? "" : tr.dataset.agent);
  });
  $("d-token").value = sessionStorage.getItem("monitorToken") || "";
  $("d-logout").addEventListener("submit", forceLogout);
  document.querySelector('#agents th[data-key="agent_id"]').classList.add("sorted");
  setInterval(renderStatus, 5000);
  connect();
});
