// The push queue: pages wait here, in storage.local, until the daemon takes them.
// It survives the daemon being down and the worker being suspended or restarted: the
// index and each payload are stored, retries use exponential backoff with an alarm as the
// wake-up, and the queue is bounded (entries and bytes; the oldest is dropped and counted).
import { callDaemon, DaemonError, isTransient } from "./daemon.js";
import { ext } from "./ext.js";
import {
  BACKOFF_BASE_MS, BACKOFF_MAX_MS, QUEUE_MAX_BYTES, QUEUE_MAX_ENTRIES,
} from "./limits.js";
import { getSettings } from "./settings.js";

export const QUEUE_ALARM = "picguard-queue";
const INDEX_KEY = "queueIndex";
const STATS_KEY = "queueStats";
const payloadKey = (id) => `q:${id}`;
const EMPTY_STATS = { delivered: 0, dropped: 0, replaced: 0, rejected: 0, lastError: "" };

let lock = Promise.resolve();
/** Run `fn` alone: index updates never interleave. */
function exclusive(fn) {
  const run = lock.then(fn, fn);
  lock = run.catch(() => {});
  return run;
}

async function readIndex() {
  const { [INDEX_KEY]: index } = await ext.storage.local.get(INDEX_KEY);
  return Array.isArray(index) ? index : [];
}

async function readStats() {
  const { [STATS_KEY]: stats } = await ext.storage.local.get(STATS_KEY);
  return { ...EMPTY_STATS, ...(stats && typeof stats === "object" ? stats : {}) };
}

function backoffMs(attempts) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/**
 * Queue a page; a newer push of the same URL replaces the waiting one. `bytes` is the
 * payload's size, measured by the validator. Returns the entry id.
 */
export function enqueue(page, { tabId = null, bytes }) {
  return exclusive(async () => {
    const index = await readIndex();
    const stats = await readStats();
    const removed = [];
    for (const entry of index.filter((e) => e.url === page.url)) {
      removed.push(entry.id);
      stats.replaced += 1;
    }
    let kept = index.filter((e) => e.url !== page.url);
    const id = `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
    kept.push({ id, url: page.url, tabId, bytes, attempts: 0, nextAt: 0, addedAt: Date.now() });
    const total = () => kept.reduce((sum, e) => sum + e.bytes, 0);
    while (kept.length > QUEUE_MAX_ENTRIES || (kept.length > 1 && total() > QUEUE_MAX_BYTES)) {
      removed.push(kept.shift().id);
      stats.dropped += 1;
    }
    await ext.storage.local.set({ [payloadKey(id)]: page });
    await ext.storage.local.set({ [INDEX_KEY]: kept, [STATS_KEY]: stats });
    if (removed.length) await ext.storage.local.remove(removed.map(payloadKey));
    return id;
  });
}

export async function queueSummary() {
  const [index, stats] = await Promise.all([readIndex(), readStats()]);
  return {
    waiting: index.length,
    bytes: index.reduce((sum, e) => sum + e.bytes, 0),
    nextAt: index.length ? Math.min(...index.map((e) => e.nextAt)) : null,
    ...stats,
  };
}

async function finish(id, outcome, error) {
  return exclusive(async () => {
    const index = await readIndex();
    const stats = await readStats();
    const entry = index.find((e) => e.id === id);
    if (!entry) return null;   // replaced by a newer push meanwhile: keep the newer one
    if (outcome === "retry") {
      entry.attempts += 1;
      entry.nextAt = Date.now() + backoffMs(entry.attempts);
      // The daemon is down or not paired: every waiting page waits at least as long.
      for (const other of index) other.nextAt = Math.max(other.nextAt, entry.nextAt);
      stats.lastError = error?.kind ?? "unknown";
      await ext.storage.local.set({ [INDEX_KEY]: index, [STATS_KEY]: stats });
      return entry;
    }
    if (outcome === "delivered") stats.delivered += 1;
    else {
      stats.rejected += 1;
      stats.lastError = error?.kind ?? "rejected";
    }
    await ext.storage.local.set({ [INDEX_KEY]: index.filter((e) => e.id !== id),
      [STATS_KEY]: stats });
    await ext.storage.local.remove(payloadKey(id));
    return entry;
  });
}

async function schedule() {
  const index = await readIndex();
  if (!index.length) {
    await ext.alarms.clear(QUEUE_ALARM);
    return;
  }
  const when = Math.max(Date.now() + 500, Math.min(...index.map((e) => e.nextAt)));
  await ext.alarms.create(QUEUE_ALARM, { when });
  // While the worker stays awake, a timer is quicker than the alarm; the alarm covers
  // a suspended or restarted worker.
  clearTimeout(schedule.timer);
  schedule.timer = setTimeout(() => drain(), Math.max(0, when - Date.now()) + 50);
}

let draining = null;

/**
 * Deliver due entries, oldest first. `force` ignores backoff (the daemon just answered).
 * `onDelivered(entry, answer)` lets the caller tell the tab. Transient failures (daemon
 * down, not paired) stop the pass: the rest would fail the same way.
 */
export function drain({ force = false, onDelivered = drain.onDelivered } = {}) {
  if (draining) {
    if (force) draining.then(() => drain({ force, onDelivered }));
    return draining;
  }
  draining = (async () => {
    try {
      const settings = await getSettings();
      const index = await readIndex();
      const due = index.filter((e) => force || e.nextAt <= Date.now())
        .sort((a, b) => a.addedAt - b.addedAt);
      for (const entry of due) {
        const key = payloadKey(entry.id);
        const { [key]: page } = await ext.storage.local.get(key);
        if (!page) {
          await finish(entry.id, "rejected", new DaemonError("bad_request"));
          continue;
        }
        try {
          const answer = await callDaemon(settings, "POST", "pages", page);
          const done = await finish(entry.id, "delivered");
          if (done && onDelivered) await onDelivered(done, answer).catch(() => {});
        } catch (error) {
          if (isTransient(error) || !(error instanceof DaemonError)) {
            await finish(entry.id, "retry", error);
            break;
          }
          await finish(entry.id, "rejected", error);   // 400/413: retrying will not help
        }
      }
    } finally {
      await schedule().catch(() => {});
      draining = null;
    }
  })();
  return draining;
}
drain.onDelivered = null;
