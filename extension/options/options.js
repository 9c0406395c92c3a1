// Options: the daemon's address and the pairing token, "test connection" in plain words,
// a way to give back host access the seller revoked (Firefox), discovery (image-search
// consent, pause when away, keywords, "find copies of my photos"), and each marketplace
// with its own switch (the site's permission, asked for in the click handler).
import "../shared/sites.js";
import { el, ext, localize, requestAccess, send, t } from "../shared/i18n.js";

const Sites = globalThis.PicGuardSites;

const DEFAULT_URL = "http://127.0.0.1:8765";
const $ = (id) => document.getElementById(id);

const RESULT = {
  connected: "resultConnected",
  not_running: "resultNotRunning",
  not_paired: "resultNoToken",
  bad_token: "resultBadToken",
  bad_token_format: "resultBadTokenFormat",
  refused: "resultRefused",
  not_picguard: "resultNotPicguard",
  bad_url: "resultBadUrl",
};

function showResult(answer, daemonUrl, saved) {
  const box = $("result");
  const state = answer.ok ? answer.state : "not_running";
  box.dataset.state = state;
  let text = t(RESULT[state] ?? "resultNotRunning", [daemonUrl]);
  if (state === "connected") {
    const s = answer.status ?? {};
    text = t("resultConnected", [String(s.version ?? "?"), String(s.catalog?.photos ?? 0),
      String(s.alerts?.new ?? 0)]);
  }
  box.replaceChildren(el("strong", { text: saved ? t("resultSaved") : "" }), text);
}

async function test(saved) {
  const daemonUrl = $("daemon-url").value.trim() || DEFAULT_URL;
  const token = $("token").value.trim();
  $("result").dataset.state = "checking";
  $("result").textContent = t("stateChecking");
  const answer = await send({ type: "test-connection", daemonUrl, token });
  showResult(answer, daemonUrl, saved);
  return answer;
}

async function save(event) {
  event.preventDefault();
  const daemonUrl = ($("daemon-url").value.trim() || DEFAULT_URL).replace(/\/+$/, "");
  const token = $("token").value.trim();
  const check = await send({ type: "test-connection", daemonUrl, token });
  if (check.ok && ["bad_url", "bad_token_format"].includes(check.state)) {
    showResult(check, daemonUrl, false);   // nothing saved: the seller must fix the field
    return;
  }
  await ext.storage.local.set({ daemonUrl, token });
  $("daemon-url").value = daemonUrl;
  await test(true);
  await loadDiscovery();
}

async function showAccess() {
  const origins = ext.runtime.getManifest().host_permissions ?? [];
  const granted = await ext.permissions.contains({ origins }).catch(() => false);
  $("access-box").hidden = granted;
}

function sweepError(answer) {
  if (answer.error === "refused") return t("sweepNeedsConsent");
  return ext.i18n.getMessage(`error_${answer.error}`) || t("error_internal");
}

async function loadDiscovery() {
  const answer = await send({ type: "discovery-get" });
  const box = $("discovery");
  box.dataset.loaded = answer.ok ? "true" : "false";
  if (!answer.ok) return;
  const d = answer.discovery ?? {};
  $("consent").checked = d.image_search_consent === true;
  $("pause-idle").checked = d.pause_when_idle === true;
  $("keywords").value = Array.isArray(d.keywords) ? d.keywords.join(", ") : "";
}

async function saveDiscovery() {
  const keywords = $("keywords").value.split(/[,，\n]/).map((k) => k.trim()).filter(Boolean);
  const answer = await send({ type: "discovery-set", values: {
    image_search_consent: $("consent").checked, pause_when_idle: $("pause-idle").checked,
    keywords } });
  $("discovery-result").textContent = answer.ok ? t("discoverySaved") : sweepError(answer);
  return answer;
}

async function findCopies() {
  $("find-copies").disabled = true;
  const answer = await send({ type: "start-sweep", sweep: "image" });
  const started = answer.paused === "consent" ? "sweepNeedsConsent" : "sweepStarted";
  $("discovery-result").textContent = answer.ok ? t(started) : sweepError(answer);
  $("find-copies").disabled = false;
}

function siteRow(state) {
  const site = Sites.SITES.find((s) => s.id === state.id);
  const input = el("input", { type: "checkbox", id: `site-${state.id}`, checked: state.enabled,
    disabled: state.builtIn });
  input.addEventListener("change", () => {
    const origins = [...site.patterns];
    // The permission prompt needs the click: ask before anything else is awaited.
    const asked = input.checked ? ext.permissions.request({ origins })
      : ext.permissions.remove({ origins });
    asked.catch(() => false).then(() => send({ type: "sites-sync" })).then(showSites);
  });
  const label = el("label", { class: "switch" },
    [input, el("span", { text: t(`site_${state.id}`) })]);
  return el("li", { "data-site": state.id, "data-enabled": String(state.enabled) }, [label,
    el("span", { class: "muted", text: state.builtIn ? t("siteAlwaysOn")
      : state.domains.join(", ") })]);
}

async function showSites(answer) {
  const states = answer?.ok ? answer.sites : (await send({ type: "sites" })).sites;
  if (!Array.isArray(states)) return;
  $("sites").replaceChildren(...states.map(siteRow));
  $("sites").dataset.ready = "true";
}

async function main() {
  localize();
  $("save-discovery").addEventListener("click", saveDiscovery);
  $("consent").addEventListener("change", saveDiscovery);
  $("find-copies").addEventListener("click", findCopies);
  $("dashboard").addEventListener("click", () => send({ type: "open-dashboard" }));
  const stored = await ext.storage.local.get(["daemonUrl", "token"]);
  $("daemon-url").value = stored.daemonUrl || DEFAULT_URL;
  $("token").value = stored.token || "";
  $("form").addEventListener("submit", save);
  $("test").addEventListener("click", () => test(false));
  $("show-token").addEventListener("click", () => {
    const input = $("token");
    input.type = input.type === "password" ? "text" : "password";
    $("show-token").textContent = t(input.type === "password" ? "buttonShow" : "buttonHide");
  });
  $("grant").addEventListener("click", async () => {
    await requestAccess().catch(() => false);
    await showAccess();
    await send({ type: "poll-now" });
  });
  ext.permissions.onAdded?.addListener(showAccess);
  ext.permissions.onRemoved?.addListener(showAccess);
  // A site switched on or off elsewhere (the browser's own extension settings).
  ext.permissions.onAdded?.addListener(() => showSites());
  ext.permissions.onRemoved?.addListener(() => showSites());
  await showAccess();
  await Promise.all([showSites(), loadDiscovery()]);
  document.body.dataset.ready = "true";
}

main();
