// Wiring: listeners, alarms, and the message handlers. All daemon traffic starts here.
import { missingOrigins } from "./access.js";
import {
  cleanAlert, POLL_ALARM, pollAlerts, recentAlerts, setBadgeProblem,
} from "./alerts.js";
import { callDaemon, connectionState, DaemonError } from "./daemon.js";
import { ext, t } from "./ext.js";
import { siteAllowed, siteStates, syncSiteScripts } from "./marketplaces.js";
import { checkImage, createMenus, MENU_CHECK_IMAGE } from "./menus.js";
import { drain, enqueue, QUEUE_ALARM, queueSummary } from "./queue.js";
import { cleanToken, getSettings, restrictStorage } from "./settings.js";
import {
  ensureSweepAlarm, onSweepPushed, runSweeps, SWEEP_ALARM, sweepOfTab, sweepState,
} from "./sweeps.js";
import { classifyMarketUrl, parseDaemonUrl } from "./urls.js";
import { Rejected, validate } from "./validate.js";

const VERDICTS = new Set(["copy_of_yours", "resembles_yours", "yours", "clear", "unknown",
  "unavailable"]);

function errorKind(error) {
  if (error instanceof DaemonError) return error.kind;
  if (error instanceof Rejected) return error.code;
  return "internal";
}

async function ensurePollAlarm() {
  const { pollSeconds } = await getSettings();
  const period = pollSeconds / 60;
  const existing = await ext.alarms.get(POLL_ALARM);
  if (!existing || Math.abs((existing.periodInMinutes ?? 0) - period) > 1e-6) {
    await ext.alarms.create(POLL_ALARM, { delayInMinutes: Math.min(period, 0.05),
      periodInMinutes: period });
  }
}

/**
 * Poll alerts. A new `copied` alert makes the daemon queue a sweep of the copier's store
 * (queued when the extension next asks for work), so ask now: otherwise the store waits
 * for the next sweep check, a minute away. The daemon still keeps the request budget.
 */
async function pollAlertsAndSweep(settings) {
  const result = await pollAlerts(settings);
  if (result.freshCopied) runSweeps();   // not awaited: a sweep task may take a while
  return result;
}

/** The regular heartbeat: access check, alerts and badge, and the queue when reachable. */
async function tick() {
  const missing = await missingOrigins();
  if (missing.length) {
    await setBadgeProblem("titleNoAccess");
    return { ok: false, error: "no_access" };
  }
  const settings = await getSettings();
  if (!settings.token) {
    await setBadgeProblem("titleNotPaired");
    return { ok: false, error: "not_paired" };
  }
  try {
    const result = await pollAlertsAndSweep(settings);
    const queue = await queueSummary();
    if (queue.waiting) await drain({ force: true });
    return { ok: true, ...result };
  } catch (error) {
    const kind = errorKind(error);
    if (kind === "bad_token" || kind === "refused") await setBadgeProblem("titleNotPaired");
    else await ext.action.setTitle({ title: t("titleNotRunning") });
    return { ok: false, error: kind };
  }
}

/** After the daemon took a queued page, tell its tab so it can ask which images to mark. */
async function tellTab(entry, answer) {
  if (!Number.isInteger(entry.tabId)) return;
  onSweepPushed(entry.tabId, answer);
  const images = answer?.images && typeof answer.images === "object" ? answer.images : {};
  await ext.tabs.sendMessage(entry.tabId, {
    type: "pushed",
    url: entry.url,
    status: typeof answer?.status === "string" ? answer.status : "unknown",
    newImages: Number.isInteger(images.new) ? images.new : 0,
  }, { frameId: 0 });
}

async function handle(msg) {
  const settings = await getSettings();
  switch (msg.type) {
    case "page": {
      // A marketplace the seller switched off (or revoked) while its tab was open: nothing
      // is sent. The content scripts are unregistered already; open tabs keep theirs.
      if (!(await siteAllowed(msg.page.url))) throw new Rejected("site_off");
      const sweep = sweepOfTab(msg.tabId);
      const page = { ...msg.page,
        channel: sweep ? sweep.channel
          : classifyMarketUrl(msg.page.url)?.kind === "results" ? "results" : "browsing" };
      if (sweep) page.sweep_id = sweep.sweepId;
      await enqueue(page, { tabId: msg.tabId, bytes: msg.bytes });
      drain();   // not awaited: the tab hears "pushed" once the daemon has it
      return { ok: true, queued: true };
    }
    case "verdicts": {
      if (!(await siteAllowed(msg.pageUrl))) throw new Rejected("site_off");
      if (!msg.urls.length) return { ok: true, verdicts: [] };
      const answer = await callDaemon(settings, "POST", "images/verdicts",
        { page_url: msg.pageUrl, urls: msg.urls });
      const verdicts = (Array.isArray(answer.verdicts) ? answer.verdicts : [])
        .filter((v) => v && typeof v.url === "string" && VERDICTS.has(v.verdict))
        .map((v) => ({ url: v.url, verdict: v.verdict,
          alertId: Number.isInteger(v.alert_id) ? v.alert_id : null }));
      return { ok: true, verdicts };
    }
    case "status": {
      const [connection, missing, queue] = await Promise.all([
        connectionState(settings), missingOrigins(), queueSummary()]);
      return { ok: true, ...connection, daemonUrl: settings.daemonUrl,
        paired: Boolean(settings.token), missingOrigins: missing, queue };
    }
    case "alerts": {
      await pollAlertsAndSweep(settings).catch(() => {});
      return { ok: true, ...(await recentAlerts(settings, msg.limit)) };
    }
    case "alert-action": {
      const alert = cleanAlert(await callDaemon(settings, "POST", `alerts/${msg.id}`,
        { action: msg.action }));
      await pollAlertsAndSweep(settings).catch(() => {});
      return { ok: true, alert };
    }
    case "watch": {
      const answer = await callDaemon(settings, "POST", "watch", { url: msg.url });
      return { ok: true, watchId: Number.isInteger(answer.watch_id) ? answer.watch_id : null };
    }
    case "test-connection": {
      const daemonUrl = parseDaemonUrl(msg.daemonUrl);
      if (!daemonUrl) return { ok: true, state: "bad_url" };
      const token = msg.token.trim() ? cleanToken(msg.token) : null;
      if (msg.token.trim() && !token) return { ok: true, state: "bad_token_format" };
      return { ok: true, ...(await connectionState({ ...settings, daemonUrl, token })) };
    }
    case "open-dashboard": {
      // The daemon's dashboard takes the token from the fragment, which is never sent.
      const url = settings.token ? `${settings.daemonUrl}/#token=${settings.token}`
        : `${settings.daemonUrl}/`;
      await ext.tabs.create({ url });
      return { ok: true };
    }
    case "poll-now":
      return tick();
    case "open-alert": {
      // The dashboard's alert route (docs/API.md); the token rides in the fragment, which
      // is never sent, and the dashboard drops it from the address bar at once.
      const hash = `#/alerts/${msg.id}${settings.token ? `&token=${settings.token}` : ""}`;
      await ext.tabs.create({ url: `${settings.daemonUrl}/${hash}` });
      return { ok: true };
    }
    case "sites":
      return { ok: true, sites: await siteStates() };
    case "sites-sync":
      await syncSiteScripts();
      return { ok: true, sites: await siteStates() };
    case "coverage": {
      const [coverage, sweeps] = await Promise.all([
        callDaemon(settings, "GET", "coverage").catch((error) => ({ error: errorKind(error) })),
        sweepState()]);
      return { ok: true, coverage, sweeps };
    }
    case "start-sweep": {
      const answer = await callDaemon(settings, "POST", "sweeps", { kind: msg.sweep });
      runSweeps();   // not awaited: the first task starts now if the budget allows
      return { ok: true, tasks: Number.isInteger(answer.tasks) ? answer.tasks : null,
        paused: typeof answer.paused?.reason === "string" ? answer.paused.reason : null };
    }
    case "discovery-get":
      return { ok: true, discovery: await callDaemon(settings, "GET", "settings/discovery") };
    case "discovery-set":
      return { ok: true,
        discovery: await callDaemon(settings, "POST", "settings/discovery", msg.values) };
    default:
      throw new Rejected("not_allowed");
  }
}

function onMessage(raw, sender, sendResponse) {
  let msg;
  try {
    msg = validate(raw, sender);
  } catch (error) {
    sendResponse({ ok: false, error: errorKind(error) });
    return false;
  }
  if (msg.kind === "content") msg.tabId = sender.tab.id;
  handle(msg).then(sendResponse, (error) => sendResponse({ ok: false, error: errorKind(error) }));
  return true;
}

async function onInstalled(details) {
  await restrictStorage();
  await createMenus();
  await ensurePollAlarm();
  await ensureSweepAlarm();
  await syncSiteScripts().catch(() => {});
  if (details?.reason === "install") {
    const missing = await missingOrigins();
    const { token } = await getSettings();
    if (missing.length || !token) await ext.runtime.openOptionsPage();
  }
  await tick();
}

async function onStartup() {
  await createMenus();
  await ensurePollAlarm();
  await ensureSweepAlarm();
  await syncSiteScripts().catch(() => {});
  await tick();
  await drain();
}

async function onStorageChanged(changes, area) {
  if (area !== "local") return;
  if (changes.daemonUrl || changes.token) {
    // Another daemon (or a new data dir): its alert ids start over.
    await ext.storage.local.remove("alertCursor");
    await tick();
  }
  if (changes.pollSeconds) {
    await ext.alarms.clear(POLL_ALARM);
    await ensurePollAlarm();
  }
}

async function onNotificationClicked(id) {
  if (!id.startsWith("picguard-")) return;
  await ext.notifications.clear(id);
  // An alert's notification opens that alert in the dashboard; the others, the dashboard.
  const alertId = /^picguard-alert-(\d+)$/.exec(id);
  await handle(alertId ? { type: "open-alert", id: Number(alertId[1]) }
    : { type: "open-dashboard" });
}

export function install() {
  ext.runtime.onInstalled.addListener(onInstalled);
  ext.runtime.onStartup.addListener(onStartup);
  ext.runtime.onMessage.addListener(onMessage);
  ext.alarms.onAlarm.addListener((alarm) => {
    if (alarm.name === POLL_ALARM) return tick();
    if (alarm.name === QUEUE_ALARM) return drain();
    if (alarm.name === SWEEP_ALARM) return runSweeps();
    return undefined;
  });
  ext.contextMenus.onClicked.addListener((info) => {
    if (info.menuItemId === MENU_CHECK_IMAGE) checkImage(info.srcUrl);
  });
  ext.notifications.onClicked.addListener(onNotificationClicked);
  // A marketplace switched on or off (options page, or the browser's own settings).
  ext.permissions.onAdded.addListener(() => syncSiteScripts().catch(() => {}).then(tick));
  ext.permissions.onRemoved.addListener(() => syncSiteScripts().catch(() => {}).then(tick));
  ext.storage.onChanged.addListener(onStorageChanged);
  drain.onDelivered = tellTab;
  // Each time the worker starts (it is suspended when idle): storage stays restricted, the
  // poll alarm exists, and any page left in the queue gets another chance.
  restrictStorage();
  ensurePollAlarm().catch(() => {});
  ensureSweepAlarm().catch(() => {});
  drain().catch(() => {});
  // For diagnosis from the worker's console (extension contexts only, never web pages).
  globalThis.picguard = { tick, drain, queueSummary, checkImage, runSweeps, sweepState,
    syncSiteScripts, siteStates };
}
