// Sweeps: the daemon keeps the queue and the budget (GET /api/v1/sweeps/next hands out a
// task only when the budget allows); the extension runs each task in a marketplace tab of
// the seller's own session, never from the daemon, and reports the outcome.
//   keyword / store: open the results page; the content script pushes it (the push is
//     tagged here with the task's channel and sweep id).
//   image: fetch the catalog photo's JPEG from the daemon, upload it through AliExpress's
//     own image search in an AliExpress tab (content/image-search.js), then open the
//     results page for the file id and let the content script push it.
// A captcha/punish answer reports `blocked`; the daemon then pauses that kind of sweep and
// the popup asks the seller to open the marketplace page once.
import {
  AE_HOME, AE_WWW_HOST, imageResultsUrl, PUNISH_RE, uploadRequest,
} from "./ae-endpoints.js";
import { callDaemon, DaemonError, fetchDaemonJpeg } from "./daemon.js";
import { ext } from "./ext.js";
import {
  SWEEP_CHECK_MINUTES, SWEEP_IDLE_SECONDS, SWEEP_IMAGE_MAX_BYTES, SWEEP_TAB_TIMEOUT_MS,
} from "./limits.js";
import { getSettings } from "./settings.js";
import { classifyMarketUrl } from "./urls.js";

export const SWEEP_ALARM = "picguard-sweep";
const STATE_KEY = "sweepState";
const CHANNEL_OF_KIND = { image: "image_search", keyword: "keyword_sweep", store: "store_sweep" };
const PAUSE_REASONS = new Set(["blocked", "budget", "consent", "idle"]);

const sweepTabs = new Map();   // tab id -> {taskId, channel, settle(answer)} while it runs
let running = null;

/** The sweep a tab is running, so its push is tagged with channel and sweep id. */
export function sweepOfTab(tabId) {
  const entry = Number.isInteger(tabId) ? sweepTabs.get(tabId) : null;
  return entry ? { channel: entry.channel, sweepId: entry.taskId } : null;
}

/** The daemon took a push from a sweep tab: that task's page is done. */
export function onSweepPushed(tabId, answer) {
  const entry = sweepTabs.get(tabId);
  if (entry) entry.settle({ pushed: true, status: typeof answer?.status === "string"
    ? answer.status : "unknown" });
}

function cleanPaused(paused) {
  if (!paused || typeof paused !== "object" || !PAUSE_REASONS.has(paused.reason)) return null;
  return { reason: paused.reason,
    message: typeof paused.message === "string" ? paused.message.slice(0, 300) : "",
    until: typeof paused.until === "string" ? paused.until.slice(0, 40) : null };
}

function cleanBudget(budget) {
  const b = budget && typeof budget === "object" ? budget : {};
  const int = (v) => (Number.isInteger(v) && v >= 0 ? v : null);
  return { minIntervalS: int(b.min_interval_s), perDay: int(b.per_day),
    usedToday: int(b.used_today),
    nextRequestAt: typeof b.next_request_at === "string" ? b.next_request_at.slice(0, 40) : null };
}

async function saveState(patch) {
  const { [STATE_KEY]: old } = await ext.storage.local.get(STATE_KEY);
  const state = { ...(old && typeof old === "object" ? old : {}), ...patch,
    checkedAt: new Date().toISOString() };
  await ext.storage.local.set({ [STATE_KEY]: state });
  return state;
}

/** What the popup shows: paused (why), the budget, the last task's outcome. */
export async function sweepState() {
  const { [STATE_KEY]: state } = await ext.storage.local.get(STATE_KEY);
  return state && typeof state === "object" ? state : { paused: null, budget: null, last: null };
}

/** Ask again at the budget's next slot (at least a few seconds away), or in a minute. */
async function scheduleNext(budget, hadTask) {
  const next = budget?.nextRequestAt ? Date.parse(budget.nextRequestAt) : NaN;
  let when = Date.now() + SWEEP_CHECK_MINUTES * 60000;
  if (Number.isFinite(next)) when = Math.min(when, Math.max(Date.now() + 1000, next + 250));
  else if (hadTask && budget?.minIntervalS != null) {
    when = Date.now() + Math.max(1, budget.minIntervalS) * 1000;
  }
  await ext.alarms.create(SWEEP_ALARM, { when, periodInMinutes: SWEEP_CHECK_MINUTES });
  // While the worker stays awake a timer is quicker; the alarm covers a suspended worker.
  clearTimeout(scheduleNext.timer);
  if (when - Date.now() < 60000) scheduleNext.timer = setTimeout(() => runSweeps(), when - Date.now());
}

export async function ensureSweepAlarm() {
  if (!(await ext.alarms.get(SWEEP_ALARM))) {
    await ext.alarms.create(SWEEP_ALARM, { delayInMinutes: SWEEP_CHECK_MINUTES,
      periodInMinutes: SWEEP_CHECK_MINUTES });
  }
}

/** Is the seller away from the computer? The daemon pauses then if they chose so. */
async function sellerAway() {
  if (!ext.idle?.queryState) return false;
  try {
    return (await ext.idle.queryState(SWEEP_IDLE_SECONDS)) !== "active";
  } catch {
    return false;
  }
}

function waitForTab(tabId, timeoutMs) {
  return new Promise((resolve) => {
    const done = (value) => {
      clearTimeout(timer);
      ext.tabs.onUpdated.removeListener(onUpdated);
      ext.tabs.onRemoved.removeListener(onRemoved);
      resolve(value);
    };
    const onUpdated = (id, change) => {
      if (id !== tabId) return;
      if (change.url && PUNISH_RE.test(change.url)) done({ blocked: change.url });
      else if (change.status === "complete") done({ loaded: true });
    };
    const onRemoved = (id) => {
      if (id === tabId) done({ closed: true });
    };
    const timer = setTimeout(() => done({ timeout: true }), timeoutMs);
    ext.tabs.onUpdated.addListener(onUpdated);
    ext.tabs.onRemoved.addListener(onRemoved);
    // It may have finished loading before the listener was added.
    ext.tabs.get(tabId).then((tab) => {
      if (tab.url && PUNISH_RE.test(tab.url)) done({ blocked: tab.url });
      else if (tab.status === "complete" && tab.url && tab.url !== "about:blank") {
        done({ loaded: true });
      }
    }, () => done({ closed: true }));
  });
}

/**
 * Open `url` in the sweep tab (creating it if needed) and wait for the content script's
 * push to reach the daemon. Resolves {status: "parsed"|"blocked"|..., pushed} or a
 * blocked/timeout/closed outcome.
 */
function pushFromTab(task, url, tabId) {
  return new Promise((resolve) => {
    let tab = tabId;
    const settle = (value) => {
      clearTimeout(timer);
      ext.tabs.onUpdated.removeListener(onUpdated);
      ext.tabs.onRemoved.removeListener(onRemoved);
      if (Number.isInteger(tab)) sweepTabs.delete(tab);
      resolve({ ...value, tabId: tab });
    };
    const onUpdated = (id, change) => {
      if (id === tab && change.url && PUNISH_RE.test(change.url)) settle({ blocked: change.url });
    };
    const onRemoved = (id) => {
      if (id === tab) settle({ closed: true });
    };
    const timer = setTimeout(() => settle({ timeout: true }), SWEEP_TAB_TIMEOUT_MS);
    ext.tabs.onUpdated.addListener(onUpdated);
    ext.tabs.onRemoved.addListener(onRemoved);
    const entry = { taskId: task.id, channel: CHANNEL_OF_KIND[task.kind], settle };
    if (Number.isInteger(tab)) sweepTabs.set(tab, entry);
    (Number.isInteger(tab) ? ext.tabs.update(tab, { url }) : ext.tabs.create({ url, active: false }))
      .then((t) => {
        tab = t.id;
        sweepTabs.set(tab, entry);
      }, (error) => settle({ error: String(error?.message ?? error) }));
  });
}

function outcomeOf(result) {
  if (result.blocked || result.status === "blocked") {
    return { status: "blocked", pages: 0, error: "the marketplace asked for a captcha" };
  }
  if (result.pushed && ["parsed", "ok"].includes(result.status)) {
    return { status: "done", pages: 1, error: null };
  }
  if (result.pushed) return { status: "failed", pages: 1, error: `page ${result.status}` };
  if (result.timeout) return { status: "failed", pages: 0, error: "the page never loaded" };
  if (result.closed) return { status: "failed", pages: 0, error: "the tab was closed" };
  return { status: "failed", pages: 0, error: result.error ?? "unknown" };
}

/** The storefront to run image search on: the one the seller uses, else www.aliexpress.com. */
async function storefront() {
  const tabs = await ext.tabs.query({ url: ["*://*.aliexpress.com/*", "*://*.aliexpress.us/*"] })
    .catch(() => []);
  const used = tabs.map((t) => { try { return new URL(t.url); } catch { return null; } })
    .find((u) => u && AE_WWW_HOST.test(u.hostname) && !PUNISH_RE.test(u.href));
  return used ? used.origin : new URL(AE_HOME).origin;
}

function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

async function runImageTask(settings, task) {
  const bytes = await fetchDaemonJpeg(settings, task.image, SWEEP_IMAGE_MAX_BYTES);
  const origin = await storefront();
  const tab = await ext.tabs.create({ url: `${origin}/`, active: false });
  try {
    const loaded = await waitForTab(tab.id, SWEEP_TAB_TIMEOUT_MS);
    if (loaded.blocked) return outcomeOf(loaded);
    if (!loaded.loaded) return outcomeOf(loaded);
    const current = await ext.tabs.get(tab.id);
    if (PUNISH_RE.test(current.url ?? "")) return outcomeOf({ blocked: current.url });
    await ext.scripting.executeScript({ target: { tabId: tab.id },
      files: ["shared/md5.js", "content/image-search.js"] });
    const [injection] = await ext.scripting.executeScript({ target: { tabId: tab.id },
      func: (request) => globalThis.PicGuardImageSearch(request),
      args: [uploadRequest(base64(bytes))] });
    const upload = injection?.result ?? { status: "failed", error: "no answer from the tab" };
    if (upload.status === "blocked") return outcomeOf({ blocked: upload.detail });
    if (upload.status !== "ok") return { status: "failed", pages: 0, error: upload.error };
    const result = await pushFromTab(task, imageResultsUrl(origin, upload.fileId), tab.id);
    return outcomeOf(result);
  } finally {
    await ext.tabs.remove(tab.id).catch(() => {});
  }
}

async function runTask(settings, task) {
  if (task.kind === "image") {
    try {
      return await runImageTask(settings, task);
    } finally {
      // pushFromTab keeps the tab until the push; close whatever is left of the sweep.
      for (const [tabId, entry] of sweepTabs) {
        if (entry.taskId === task.id) sweepTabs.delete(tabId);
      }
    }
  }
  const what = classifyMarketUrl(task.url);
  if (!what || what.kind !== "results") {
    return { status: "failed", pages: 0, error: "the task's address is not a results page" };
  }
  const result = await pushFromTab(task, task.url, null);
  if (Number.isInteger(result.tabId)) await ext.tabs.remove(result.tabId).catch(() => {});
  return outcomeOf(result);
}

function cleanTask(raw) {
  if (!raw || typeof raw !== "object" || !Number.isInteger(raw.id) || raw.id < 1) return null;
  if (!CHANNEL_OF_KIND[raw.kind]) return null;
  return { id: raw.id, kind: raw.kind, marketplace: String(raw.marketplace ?? ""),
    url: typeof raw.url === "string" ? raw.url : null,
    image: typeof raw.image === "string" ? raw.image : null };
}

/**
 * One round: ask the daemon for a task (saying whether the seller is away), run it,
 * report it. At most one round at a time; returns what happened.
 */
export function runSweeps() {
  if (running) return running;
  running = (async () => {
    const settings = await getSettings();
    if (!settings.token) return { ran: false, reason: "not_paired" };
    let budget = null;
    let task = null;
    try {
      // The daemon knows whether the seller chose to pause while away (pause_when_idle).
      const away = await sellerAway();
      const next = await callDaemon(settings, "GET", `sweeps/next${away ? "?idle=1" : ""}`);
      budget = cleanBudget(next.budget);
      task = cleanTask(next.task);
      await saveState({ paused: cleanPaused(next.paused), budget });
      if (!task) return { ran: false, reason: next.paused?.reason ?? "nothing_due" };
      let outcome;
      try {
        outcome = await runTask(settings, task);
      } catch (error) {
        const consent = error instanceof DaemonError && error.code === "consent_needed";
        outcome = { status: "failed", pages: 0,
          error: consent ? "consent_needed" : String(error?.message ?? error).slice(0, 300) };
      }
      await callDaemon(settings, "POST", `sweeps/${task.id}/result`, outcome);
      const last = { taskId: task.id, kind: task.kind, status: outcome.status,
        at: new Date().toISOString() };
      const patch = { last };
      if (outcome.status === "blocked") {
        patch.paused = { reason: "blocked", message: "", until: null };
      }
      await saveState(patch);
      return { ran: true, task, outcome };
    } catch (error) {
      return { ran: false, reason: error instanceof DaemonError ? error.kind : "internal" };
    } finally {
      await scheduleNext(budget, Boolean(task)).catch(() => {});
      running = null;
    }
  })();
  return running;
}
