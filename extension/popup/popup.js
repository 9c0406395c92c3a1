// The popup: connection state, coverage per channel and the sweeps' state, "find copies of
// my photos", recent alerts with both thumbnails (each opens in the dashboard), "watch this
// listing or store", and links to the daemon's dashboard and to the settings.
import { classifyMarketUrl } from "../background/urls.js";
import { el, ext, localize, requestAccess, send, t, uiLanguage } from "../shared/i18n.js";

const ALERT_KIND_KEYS = { copied: "alertCopied", resembles: "alertResembles", unclear: "alertUnclear" };

const STATE_TEXT = {
  connected: ["stateConnected", null],
  not_running: ["stateNotRunning", "helpNotRunning"],
  not_paired: ["stateNotPaired", "helpNotPaired"],
  bad_token: ["stateNotPaired", "helpBadToken"],
  refused: ["stateNotPaired", "helpRefused"],
  not_picguard: ["stateWrongAddress", "helpNotPicguard"],
  no_access: ["stateNoAccess", "helpNoAccess"],
};

const $ = (id) => document.getElementById(id);

function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleString(uiLanguage(), { dateStyle: "medium", timeStyle: "short" });
}

function thumb(src, captionKey, alt) {
  return el("figure", { class: "thumb" }, [
    src ? el("img", { src, alt, width: 88, height: 88 })
      : el("div", { class: "nothumb", text: "?" }),
    el("figcaption", { text: t(captionKey) }),
  ]);
}

function alertItem(alert) {
  const store = alert.other.storeName || alert.other.storeId || t("unknownStore");
  const actions = el("div", { class: "row" });
  if (alert.state === "new") {
    for (const [action, key] of [["confirm", "buttonConfirm"], ["dismiss", "buttonDismiss"]]) {
      const button = el("button", { type: "button", class: "small", text: t(key) });
      button.addEventListener("click", async () => {
        button.disabled = true;
        await send({ type: "alert-action", id: alert.id, action });
        await loadAlerts();
      });
      actions.append(button);
    }
  } else {
    actions.append(el("span", { class: "muted", text: t(`alertState_${alert.state}`) }));
  }
  const open = el("button", { type: "button", class: "link open-alert", text: t("openInDashboard") });
  open.addEventListener("click", () => send({ type: "open-alert", id: alert.id }));
  actions.append(open);
  if (alert.other.listingUrl) {
    actions.append(el("a", { href: alert.other.listingUrl, target: "_blank", rel: "noreferrer",
      text: t("openListing") }));
  }
  return el("li", { class: `alert kind-${alert.kind}`, "data-alert-id": String(alert.id) }, [
    el("div", { class: "thumbs" }, [
      thumb(alert.own.thumb, "thumbYours", alert.own.fileName),
      thumb(alert.other.thumb, "thumbTheirs", store),
    ]),
    el("div", { class: "about" }, [
      el("strong", { class: "kind", text: t(ALERT_KIND_KEYS[alert.kind] || "alertUnclear") }),
      el("div", { text: t("alertStore", [store]) }),
      alert.own.fileName ? el("div", { class: "muted", text: t("alertPhoto", [alert.own.fileName]) })
        : "",
      el("div", { class: "muted", text: t("alertFirstSeen", [formatTime(alert.other.firstSeen)]) }),
      actions,
    ]),
  ]);
}

async function loadAlerts() {
  const answer = await send({ type: "alerts", limit: 10 });
  const list = $("alerts");
  if (!answer.ok) {
    list.replaceChildren();
    $("no-alerts").hidden = true;
    return;
  }
  list.replaceChildren(...answer.alerts.map(alertItem));
  $("no-alerts").hidden = answer.alerts.length > 0;
}

function showState(status) {
  const state = status.missingOrigins?.length ? "no_access" : status.state;
  const [label, help] = STATE_TEXT[state] ?? ["stateNotRunning", "helpNotRunning"];
  const pill = $("state");
  pill.dataset.state = state;
  pill.textContent = t(label);
  $("connection").hidden = !help;
  if (help) $("state-help").textContent = t(help, [status.daemonUrl ?? ""]);
  $("grant").hidden = state !== "no_access";
  $("open-options-help").hidden = !["not_paired", "bad_token", "refused", "not_picguard"]
    .includes(state);
  if (state === "connected" && status.status) {
    const s = status.status;
    $("summary").textContent = t("summaryConnected", [String(s.catalog?.photos ?? 0),
      String(s.listings ?? 0), String(s.alerts?.new ?? 0)]);
    $("summary").hidden = false;
  }
  const waiting = status.queue?.waiting ?? 0;
  $("queue").hidden = waiting === 0;
  if (waiting) $("queue").textContent = t("queueWaiting", [String(waiting)]);
  return state;
}

const CHANNELS = ["browsing", "results", "image_search", "keyword_sweep", "store_sweep", "watch"];
const num = (v) => (Number.isInteger(v) && v >= 0 ? v : 0);

function coverageRow(channel, c) {
  const sweeps = ["image_search", "keyword_sweep", "store_sweep"].includes(channel)
    ? t("coverageSweepCounts", [String(num(c.sweeps_done)), String(num(c.sweeps_blocked))]) : "";
  return el("tr", { "data-channel": channel }, [
    el("td", { text: t(`channel_${channel}`) }),
    el("td", { text: String(num(c.listings_today)) }),
    el("td", { text: String(num(c.listings_total)) }),
    el("td", { text: sweeps }),
    el("td", { text: typeof c.next_due === "string" ? formatTime(c.next_due) : "" }),
  ]);
}

async function loadCoverage() {
  const answer = await send({ type: "coverage" });
  if (!answer.ok) return;
  $("sweep-box").hidden = false;
  const raw = answer.coverage && typeof answer.coverage === "object" ? answer.coverage : {};
  const channels = raw.channels && typeof raw.channels === "object" ? raw.channels : raw;
  $("coverage").tBodies[0].replaceChildren(...CHANNELS.map((ch) => coverageRow(ch,
    channels[ch] && typeof channels[ch] === "object" ? channels[ch] : {})));
  const paused = answer.sweeps?.paused;
  const box = $("sweep-paused");
  box.hidden = !paused;
  box.dataset.reason = paused?.reason ?? "";
  if (paused) box.textContent = t(`paused_${paused.reason}`) || paused.message;
}

/** The page to offer "watch" for: the active tab, or (popup opened in a tab) the last
 * AliExpress tab the seller looked at. */
async function targetTab() {
  const [active] = await ext.tabs.query({ active: true, lastFocusedWindow: true });
  if (active && ["item", "store"].includes(classifyMarketUrl(active.url)?.kind)) return active;
  const tabs = await ext.tabs.query({});
  return tabs.filter((tab) => ["item", "store"].includes(classifyMarketUrl(tab.url)?.kind))
    .sort((a, b) => (b.lastAccessed ?? 0) - (a.lastAccessed ?? 0))[0] ?? null;
}

let watchReady = false;

function errorText(code) {
  return ext.i18n.getMessage(`error_${code}`) || t("error_internal");
}

async function setupWatch(connected) {
  if (watchReady) return;
  const tab = await targetTab().catch(() => null);
  const what = tab && classifyMarketUrl(tab.url);
  if (!what || !connected) return;
  watchReady = true;
  $("watch-box").hidden = false;
  $("watch-what").textContent = tab.title || tab.url;
  const button = $("watch");
  button.textContent = t(what.kind === "store" ? "buttonWatchStore" : "buttonWatchListing");
  button.addEventListener("click", async () => {
    button.disabled = true;
    const answer = await send({ type: "watch", url: tab.url });
    $("watch-result").textContent = answer.ok ? t("watchAdded") : errorText(answer.error);
    button.disabled = answer.ok;
  });
}

async function main() {
  localize();
  $("options").addEventListener("click", () => ext.runtime.openOptionsPage());
  $("open-options-help").addEventListener("click", () => ext.runtime.openOptionsPage());
  $("dashboard").addEventListener("click", () => send({ type: "open-dashboard" }));
  $("find-copies").addEventListener("click", async () => {
    $("find-copies").disabled = true;
    const answer = await send({ type: "start-sweep", sweep: "image" });
    const started = answer.paused === "consent" ? "sweepNeedsConsent" : "sweepStarted";
    $("sweep-result").textContent = answer.ok ? t(started)
      : answer.error === "refused" ? t("sweepNeedsConsent") : errorText(answer.error);
    $("find-copies").disabled = false;
    await loadCoverage();
  });
  $("grant").addEventListener("click", async () => {
    await requestAccess().catch(() => false);
    await refresh();
  });
  await refresh();
}

async function refresh() {
  const status = await send({ type: "status" });
  const state = showState(status.ok ? status : { state: "not_running" });
  document.body.dataset.ready = "true";
  await Promise.all([
    state === "connected" ? loadAlerts() : Promise.resolve(),
    state === "connected" ? loadCoverage() : Promise.resolve(),
    setupWatch(state === "connected"),
  ]);
  document.body.dataset.loaded = "true";
}

main();
