"""The web console of ``serve``: one server-rendered page and a little plain JavaScript
(no build step). It lists subscriptions, triggers events, and shows every attempt live
from ``/_mock/stream``. Untrusted text only ever goes in through ``textContent``."""

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>atscale-mock engine</title>
<style>
 body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
 h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
 table { border-collapse: collapse; width: 100%; }
 th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #ddd; vertical-align: top; }
 .ok { color: #17702a; font-weight: 600; } .bad { color: #b00020; font-weight: 600; }
 pre { margin: 0; white-space: pre-wrap; max-height: 14em; overflow: auto; background: #f6f6f6; }
 button { margin: 2px; } #error { color: #b00020; } .muted { color: #777; }
 form input[type=url] { width: 28em; }
 td.nowrap { white-space: nowrap; }
</style>
</head>
<body>
<h1>atscale-mock engine</h1>
<p class="muted">A mock AtScale engine: subscriptions receive the engine's webhooks.
Control API: <a href="/_mock/openapi.json">/_mock/openapi.json</a>.</p>
<p id="auth" hidden>Admin token: <input id="token" type="password" autocomplete="off">
 <button id="save-token">Use</button></p>
<p id="error" role="alert"></p>

<h2>Webhooks</h2>
<form id="add-webhook">
 <input id="webhook-url" type="url" placeholder="http://127.0.0.1:9000/hooks" required>
 <input id="webhook-events" placeholder="events (blank: all)">
 <button type="submit">Add webhook</button>
</form>
<table id="webhooks"><thead><tr><th>id</th><th>url</th><th>events</th><th>signing</th><th></th></tr></thead><tbody></tbody></table>

<h2>Trigger</h2>
<div id="triggers"></div>

<h2>Deliveries <span id="live" class="muted">(connecting)</span></h2>
<table id="deliveries">
<thead><tr><th>time</th><th>event</th><th>webhook</th><th>status</th><th>latency</th>
<th>attempt</th><th>signature</th><th>schema</th><th>details</th><th></th></tr></thead>
<tbody></tbody></table>

<script>
"use strict";
const token = () => sessionStorage.getItem("atscale-mock-token") || "";
const headers = (json) => {
  const h = {};
  if (token()) h["Authorization"] = "Bearer " + token();
  if (json) h["Content-Type"] = "application/json";
  return h;
};
const showError = (text) => { document.getElementById("error").textContent = text || ""; };

async function api(method, path, body) {
  const res = await fetch(path, {method, headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body)});
  if (res.status === 401) { document.getElementById("auth").hidden = false; throw new Error("admin token needed"); }
  if (!res.ok) { const e = await res.json().catch(() => ({})); throw new Error(e.error || res.statusText); }
  return res.status === 204 ? null : res.json();
}

function cell(row, text, cls) {
  const td = row.insertCell(); td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls; return td;
}

async function loadWebhooks() {
  const data = await api("GET", "/_mock/webhooks");
  const body = document.querySelector("#webhooks tbody"); body.replaceChildren();
  for (const w of data.webhooks) {
    const row = body.insertRow();
    cell(row, w.id); cell(row, w.url); cell(row, w.events.join(", "));
    cell(row, w.signing ? w.signing.scheme : "unsigned");
    const b = document.createElement("button"); b.textContent = "Delete";
    b.onclick = () => api("DELETE", "/_mock/webhooks/" + w.id).then(loadWebhooks).catch(e => showError(e.message));
    row.insertCell().append(b);
  }
}

async function loadTriggers() {
  const data = await api("GET", "/_mock/events");
  const box = document.getElementById("triggers"); box.replaceChildren();
  for (const e of data.events) {
    const b = document.createElement("button");
    b.textContent = e.name; b.title = e.title; b.dataset.event = e.name;
    b.onclick = () => api("POST", "/_mock/events/" + e.name, {})
      .then(r => showError(r.deliveries.length ? "" : "no webhook wants " + e.name))
      .catch(err => showError(err.message));
    box.append(b);
  }
}

function addAttempt(a) {
  const body = document.querySelector("#deliveries tbody");
  const row = body.insertRow(0);
  row.dataset.delivery = a.id; row.dataset.event = a.event;
  cell(row, a.time_iso.slice(11, 23), "nowrap").title = a.time_iso;
  cell(row, a.event, "nowrap"); cell(row, a.webhook_id);
  const ok = a.status !== null && a.status >= 200 && a.status < 300;
  cell(row, a.status !== null ? a.status : a.error_class, ok ? "ok status" : "bad status");
  cell(row, a.latency_ms.toFixed(1) + " ms"); cell(row, a.attempt);
  cell(row, a.signature || "unsigned", "nowrap");
  cell(row, a.schema_ok === null ? "" : (a.schema_ok ? "valid" : "INVALID"), a.schema_ok === false ? "bad" : "");
  const details = document.createElement("details");
  const summary = document.createElement("summary"); summary.textContent = a.error || "payload and response";
  const payload = document.createElement("pre"); payload.textContent = JSON.stringify(a.payload, null, 2);
  const response = document.createElement("pre"); response.textContent = "response: " + (a.response_body || "(empty)");
  details.append(summary, payload, response); row.insertCell().append(details);
  const b = document.createElement("button"); b.textContent = "Replay";
  b.onclick = () => api("POST", "/_mock/deliveries/" + a.id + "/replay").catch(e => showError(e.message));
  row.insertCell().append(b);
  while (body.rows.length > 500) body.deleteRow(-1);
}

async function stream() {
  const live = document.getElementById("live");
  for (;;) {
    try {
      const res = await fetch("/_mock/stream", {headers: headers(false)});
      if (res.status === 401) { document.getElementById("auth").hidden = false; return; }
      live.textContent = "(live)";
      const reader = res.body.getReader(); const dec = new TextDecoder(); let buf = "";
      for (;;) {
        const {value, done} = await reader.read(); if (done) break;
        buf += dec.decode(value, {stream: true});
        let cut;
        while ((cut = buf.indexOf("\\n\\n")) >= 0) {
          const block = buf.slice(0, cut); buf = buf.slice(cut + 2);
          const data = block.split("\\n").filter(l => l.startsWith("data: ")).map(l => l.slice(6)).join("\\n");
          if (data) addAttempt(JSON.parse(data));
        }
      }
    } catch (e) { /* reconnect below */ }
    live.textContent = "(reconnecting)";
    await new Promise(r => setTimeout(r, 1000));
  }
}

async function start() {
  showError("");
  try {
    await Promise.all([loadWebhooks(), loadTriggers()]);
    const recent = await api("GET", "/_mock/deliveries?limit=100");
    for (const a of recent.deliveries) addAttempt(a);
    stream();
  } catch (e) { showError(e.message); }
}

document.getElementById("add-webhook").onsubmit = (ev) => {
  ev.preventDefault();
  const events = document.getElementById("webhook-events").value.split(/[ ,]+/).filter(Boolean);
  const body = {url: document.getElementById("webhook-url").value};
  if (events.length) body.events = events;
  api("POST", "/_mock/webhooks", body).then(loadWebhooks).then(() => showError("")).catch(e => showError(e.message));
};
document.getElementById("save-token").onclick = () => {
  sessionStorage.setItem("atscale-mock-token", document.getElementById("token").value);
  document.getElementById("auth").hidden = true; start();
};
start();
</script>
</body>
</html>
"""
