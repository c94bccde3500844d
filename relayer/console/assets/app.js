// cityrelay console: plain DOM, no framework. Every value from the server is set as text, never as HTML.
"use strict";
const $ = (id) => document.getElementById(id);

// h builds an element: h("dl", {class: "x"}, child, "text", ...).
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v); else el.setAttribute(k, v);
  }
  for (const k of kids.flat(Infinity)) if (k !== null && k !== undefined) el.append(k instanceof Node ? k : String(k));
  return el;
}
function dl(pairs) {
  return h("dl", {}, pairs.filter((p) => p[1] !== "" && p[1] !== undefined && p[1] !== null).map(([k, v, key]) => [h("dt", {}, k), h("dd", key ? { "data-k": key } : {}, v)]));
}
function ago(t) { return t ? new Date(t).toLocaleString() : ""; }
// span names the window of the hourly counts: "last hour", or "last 12 min" after a recent start.
function span(s) { return s >= 3590 ? "last hour" : `last ${Math.max(1, Math.round(s / 60))} min`; }
function dur(s) {
  if (s === undefined || s < 0) return "unknown";
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${hh}h` : hh ? `${hh}h ${m}m` : `${m}m ${Math.floor(s % 60)}s`;
}
async function getJSON(url) {
  const r = await fetch(url, { cache: "no-store" });
  const body = await r.json().catch(() => ({ error: r.statusText }));
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

// Tabs follow the location hash.
function showTab() {
  const tab = (location.hash || "#overview").slice(1);
  for (const s of document.querySelectorAll("section.tab")) s.hidden = s.id !== tab;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("on", a.dataset.tab === tab);
  if (tab === "packets") loadDead();
}
window.addEventListener("hashchange", showTab);

// witnessList: what the chain's witnesses answered last, and the divergences (evidence files) still listed.
function witnessList(c) {
  const ws = (c.witnesses || []).filter((w) => !w.primary), ds = [...(c.divergences || [])], lines = [];
  if (!ws.length && c.witnesses && c.witnesses.length) lines.push(h("li", { class: "w-warn" }, "no witness configured: a divergence cannot be detected"));
  const agree = ws.filter((w) => w.state === "agrees");
  if (agree.length) lines.push(h("li", { class: "w-ok" }, `${agree.length} ${agree.length > 1 ? "witnesses agree" : "witness agrees"} at ${Math.max(...agree.map((w) => w.height))}`));
  for (const w of ws) {
    if (w.state === "no answer") lines.push(h("li", { class: "w-warn" }, `witness ${w.witness} did not answer at ${w.height}${w.error ? ": " + w.error : ""}`));
    if (w.state === "unchecked") lines.push(h("li", { class: "muted" }, `witness ${w.witness} not checked yet`));
    if (w.state === "faulty") lines.push(h("li", { class: "w-warn" }, `witness ${w.witness} faulty at ${w.height}: its conflicting header does not verify (not a fork; it confirms nothing)`));
    if (w.state === "dropped") lines.push(h("li", { class: "w-warn" }, `witness ${w.witness} dropped after headers that do not verify (since ${w.height}): restart the daemon to re-admit it`));
    if (w.state === "diverged" && !ds.some((d) => d.witness === w.witness && d.height === w.height)) ds.unshift(w);
  }
  for (const d of ds) {
    lines.push(h("li", { class: "err" }, `witness ${d.witness} diverged at height ${d.height} — evidence ${d.evidence || "not written (see the log)"}`,
      h("span", { class: "muted" }, ` · ${ago(d.at)}${d.earlier ? " (before the last start)" : ""}`)));
  }
  return lines.length ? h("ul", { class: "witnesses", "data-k": "witnesses" }, lines) : null;
}

// Overview: polled every 2 s.
let chainsKnown = "";
function renderOverview(o) {
  $("chains").replaceChildren(...o.chains.map((c) => h("div", { class: "card", "data-chain": c.chain_id },
    h("h3", {}, c.chain_id),
    dl([["node height", c.node_height || "?", "node-height"], ["node time", ago(c.node_time)],
      ["light client", c.light_height || "?", "light-height"], ["header age", c.light_age_s >= 0 ? `${Math.round(c.light_age_s)} s` : "unknown"],
      ["lag", `${c.lag} blocks`], ["balance", (c.balance || []).join(", ")]]),
    c.halted ? h("p", { class: "err", "data-k": "halted" }, c.halted) : null,
    witnessList(c), c.error ? h("p", { class: "err" }, c.error) : null)));
  $("paths").replaceChildren(...o.paths.map((p) => h("div", { class: "card", "data-path": p.name },
    h("h3", {}, p.name),
    p.ends.map((e) => dl([[e.chain, `${e.port}/${e.channel || "—"} ${e.state}`], ["client", `${e.client || "—"} · ${e.connection || "—"}`],
      ["trust left", dur(e.trusting_left_s)]])),
    dl([[`observed · ${span(p.last_hour.seconds)}`, p.last_hour.observed, "observed-hour"], [`relayed · ${span(p.last_hour.seconds)}`, p.last_hour.relayed, "relayed-hour"],
      [`failed · ${span(p.last_hour.seconds)}`, p.last_hour.failed, "failed-hour"], [`retried · ${span(p.last_hour.seconds)}`, p.last_hour.retried, "retried-hour"],
      ["since start", `${p.observed} observed, ${p.relayed} relayed, ${p.failed} failed, ${p.retried} retried`],
      ["backlog", p.backlog],
      ["last relay tx", p.last_relay ? `${p.last_relay.kind} ×${p.last_relay.packets} on ${p.last_relay.chain} at height ${p.last_relay.height} · ${ago(p.last_relay.at)}` : "none yet", "last-relay"]]),
    p.last_relay ? h("div", { class: "muted" }, `tx ${p.last_relay.tx}`) : null)));
  $("evm").replaceChildren(...(o.evm_cities || []).map((e) => h("div", { class: "card", "data-evm": e.city },
    h("h3", {}, `${e.city} (EVM ${e.evm_chain_id})`),
    dl([["verified header", e.verified_height || "not open", "evm-height"], ["header age", e.verified_age_s >= 0 ? dur(e.verified_age_s) : "unknown"],
      ["registry", e.registry]]),
    e.deliveries.map((d) => dl([[`→ ${d.chain}`, `client ${d.client || "none yet (cityrelay tx evm-client)"}`], ["delivered", d.relayed, "evm-relayed"], ["failed tries", d.failed], ["retried", d.retried]])))));
  $("evm-head").hidden = !(o.evm_cities || []).length;
  const n = o.nats;
  $("nats").replaceChildren(h("div", { class: "card" }, h("h3", {}, n.connected ? "NATS connected" : "NATS disconnected"),
    dl([["queued", n.work_queued], ["pending", n.pending], ["consumers", n.consumers], ["dead letters", n.dead_letters], ["log level", o.log_level]]),
    n.error ? h("p", { class: "err" }, n.error) : null));
  const ids = o.chains.map((c) => c.chain_id).join(",");
  if (ids !== chainsKnown) {
    chainsKnown = ids;
    $("v-chain").replaceChildren(...o.chains.map((c) => h("option", {}, c.chain_id)));
  }
  $("level").value = o.log_level;
  $("live").textContent = `live · ${new Date(o.at).toLocaleTimeString()}`;
}
async function poll() {
  try { renderOverview(await getJSON("/console/api/overview")); } catch (e) { $("live").textContent = `offline: ${e.message}`; }
  setTimeout(poll, 2000);
}

// Packets.
function renderPackets(list) {
  $("packet-result").replaceChildren(...list.map((p) => h("div", { class: "card packet" },
    h("h3", {}, `${p.chain} ${p.port}/${p.channel} #${p.sequence}`),
    dl([["to", p.dest], ["path", p.path], ["class", p.class], ["attestation", p.attestation_id]]),
    h("ol", { class: "steps" }, p.steps.map((s) => h("li", { class: s.done ? "done" : "", "data-step": s.name },
      h("strong", {}, s.name), " ", s.done ? "" : "(not yet) ", s.state ? `· ${s.state} ` : "",
      s.height ? ["· at height ", h("span", { "data-k": "height" }, s.height), s.chain ? ` on ${s.chain} ` : " "] : s.chain ? `· on ${s.chain} ` : "",
      s.at ? `· ${ago(s.at)} ` : "",
      s.tx ? h("div", { class: "muted" }, `tx ${s.tx}`) : null, s.reason ? h("div", { class: "err" }, s.reason) : null))),
    p.refused && p.refused.length ? h("details", { class: "refused" },
      h("summary", {}, `${p.refused.length} other item(s) for this sequence refused (events the chain never committed)`),
      h("ul", {}, p.refused.map((r) => h("li", {}, `${r.name} `, r.at ? `· ${ago(r.at)} ` : "", h("div", { class: "err" }, r.reason))))) : null)));
}
async function findPackets(query) {
  $("packet-result").replaceChildren(h("p", { class: "muted" }, "searching…"));
  try { renderPackets(await getJSON("/console/api/packets?" + new URLSearchParams(query))); } catch (e) {
    $("packet-result").replaceChildren(h("p", { class: "err" }, e.message));
  }
}
$("find-id").addEventListener("submit", (e) => { e.preventDefault(); findPackets({ id: $("q-id").value.trim() }); });
$("find-seq").addEventListener("submit", (e) => {
  e.preventDefault(); findPackets({ chain: $("q-chain").value.trim(), channel: $("q-channel").value.trim(), seq: $("q-seq").value.trim() });
});

async function loadDead() {
  try {
    const list = await getJSON("/console/api/dead-letters");
    if (!list.length) { $("dead").replaceChildren(h("p", { class: "muted" }, "None.")); return; }
    $("dead").replaceChildren(h("table", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, "work"), h("th", {}, "reason"), h("th", {}, "")),
      list.map((d) => h("tr", { "data-dead": d.seq }, h("td", {}, d.seq), h("td", {}, d.work || d.subject), h("td", {}, d.reason),
        h("td", {}, d.requeueable ? h("button", { class: "danger requeue", onclick: () => requeue(d) }, "Re-queue") : "")))));
  } catch (e) { $("dead").replaceChildren(h("p", { class: "err" }, e.message)); }
}

// Admin actions: confirmed first, then sent with the token.
async function admin(path, form, what) {
  if (!confirm(`${what}?`)) return;
  const r = await fetch(path, { method: "POST", body: new URLSearchParams(form),
    headers: $("token").value ? { Authorization: "Bearer " + $("token").value } : {} });
  const body = await r.json().catch(() => ({}));
  $("admin-result").className = r.ok ? "" : "err";
  $("admin-result").textContent = r.ok ? `${what}: done` : `${what}: refused (${r.status}) ${body.error || ""}`;
  return r.ok;
}
async function requeue(d) { if (await admin("/console/admin/requeue", { seq: d.seq }, `Re-queue dead letter ${d.seq} (${d.work})`)) loadDead(); }
$("loglevel").addEventListener("submit", (e) => { e.preventDefault(); admin("/console/admin/log-level", { level: $("level").value }, `Set the log level to ${$("level").value}`); });

// Verify.
const bad = ["revoked", "suspended", "expired", "not yet valid", "not recognised", "client frozen", "client expired", "not found"];
function renderCard(c) {
  const r = c.result, a = r && r.attestation;
  const cls = c.verdict === "valid" ? "v-valid" : bad.includes(c.verdict) ? "v-bad" : "v-unknown";
  const unix = (s) => (s ? new Date(s * 1000).toLocaleString() : "");
  $("card").replaceChildren(h("div", { class: `card ${cls}`, id: "verdict-card" },
    h("p", { class: "verdict", id: "verdict" }, c.verdict), h("p", {}, c.explain),
    r ? dl([...(a ? [["issuer", a.issuer_did], ["subject", a.subject_did], ["type", a.credential_type],
      ["valid", `${unix(a.valid_from)} – ${unix(a.valid_until)}`]] : []), ["origin city", (a && a.origin_chain_id) || r.origin],
      ["checked on", r.chain], ["verified header", `height ${r.header_height} · ${ago(r.header_time)}`],
      ...(r.origin_height ? [["status proven at", `${(a && a.origin_chain_id) || r.origin} height ${r.origin_height} · ${ago(r.origin_time)}`]]
        : [["origin city's state as of", ago(r.origin_state_as_of)]]),
      ...(r.relayed_status && r.relayed_status !== r.status ? [["relayed copy says", r.relayed_status]] : []),
      ...(c.route ? [["route", c.route]] : []),
      ...(r.via ? [["through hub", `${r.via.hub} (client ${r.via.hub_client}, hub height ${r.via.hub_height} · ${ago(r.via.hub_time)})`],
        ...(r.via.origin_client ? [["hub's client of the city", `${r.via.origin_client} at height ${r.via.origin_height} · ${ago(r.via.origin_time)}: ${r.via.status}`]] : [])] : [])]) : null,
    c.error ? h("p", { class: "err" }, c.error) : null,
    r ? h("details", {}, h("summary", {}, "Proof details"),
      dl([["proof height", r.proof_height], ["app hash", r.app_hash], ["received at height", r.received_height], ["channel", r.channel],
        ["connection", r.connection], ["client", r.client], ["registry names", r.registered_client], ["status from", r.status_from], ["reason", r.reason]]),
      h("pre", {}, JSON.stringify(r, null, 2))) : null));
}
$("verify-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("card").replaceChildren(h("p", { class: "muted" }, "verifying…"));
  try { renderCard(await getJSON("/console/api/verify?" + new URLSearchParams(new FormData(e.target)))); } catch (err) {
    renderCard({ verdict: "cannot verify", explain: "The relayer did not answer.", error: err.message });
  }
});

showTab();
poll();
