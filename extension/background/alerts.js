// Alerts: polled from the daemon on an alarm; one notification per new alert, the number of
// new alerts on the badge, and a nudge to marketplace tabs so they refresh their marks.
import { callDaemon } from "./daemon.js";
import { ext, t } from "./ext.js";
import { MAX_NOTIFICATIONS_PER_POLL } from "./limits.js";
import { enabledPatterns } from "./marketplaces.js";
import { parseHttpUrl } from "./urls.js";

export const POLL_ALARM = "picguard-poll";
const THUMB_RE = /^data:image\/(?:jpeg|png|webp|gif);base64,[A-Za-z0-9+/=]+$/;
const MAX_THUMB_CHARS = 400 * 1024;

export function safeThumb(value) {
  return typeof value === "string" && value.length <= MAX_THUMB_CHARS && THUMB_RE.test(value)
    ? value : null;
}

function text(value, max = 300) {
  return typeof value === "string" ? value.slice(0, max) : "";
}

/** Only the fields the extension shows, type-checked: the daemon's answer is data, not code. */
const KINDS = ["copied", "resembles", "unclear"];
// The same words as the daemon's (daemon/monitor/verdict_rules.py KIND_WORDS), per kind.
const NOTIFY_KEYS = {
  copied: ["notifyCopiedTitle", "notifyCopiedBody"],
  resembles: ["notifyResemblesTitle", "notifyResemblesBody"],
  unclear: ["notifyUnclearTitle", "notifyUnclearBody"],
};

export function cleanAlert(raw) {
  if (!raw || typeof raw !== "object" || !Number.isInteger(raw.id) || raw.id < 1) return null;
  const own = raw.own && typeof raw.own === "object" ? raw.own : {};
  const other = raw.other && typeof raw.other === "object" ? raw.other : {};
  const listingUrl = parseHttpUrl(other.listing_url) ? other.listing_url : null;
  return {
    id: raw.id,
    // An unknown kind reads as unclear: never claim the seller was first without the daemon.
    kind: KINDS.includes(raw.kind) ? raw.kind : "unclear",
    state: ["new", "confirmed", "dismissed", "withdrawn"].includes(raw.state) ? raw.state : "new",
    createdAt: text(raw.created_at, 40),
    score: typeof raw.score === "number" ? raw.score : null,
    own: { fileName: text(own.file_name), shoot: text(own.shoot), takenAt: text(own.taken_at, 40),
      thumb: safeThumb(own.thumb) },
    other: { storeName: text(other.store_name), storeId: text(other.store_id, 40),
      title: text(other.title), firstSeen: text(other.first_seen, 40), listingUrl,
      thumb: safeThumb(other.thumb) },
  };
}

export async function setBadgeCount(count) {
  const text = count > 99 ? "99+" : count > 0 ? String(count) : "";
  await ext.action.setBadgeBackgroundColor({ color: "#c5221f" });
  await ext.action.setBadgeText({ text });
}

/** The badge and tooltip for a state that needs the seller: not paired, no access. */
export async function setBadgeProblem(titleKey) {
  await ext.action.setBadgeBackgroundColor({ color: "#b06000" });
  await ext.action.setBadgeText({ text: "!" });
  await ext.action.setTitle({ title: t(titleKey) });
}

async function notify(alert) {
  const store = alert.other.storeName || alert.other.storeId || t("unknownStore");
  // Only the fields both browsers support (Firefox has no buttons, contextMessage...).
  const options = {
    type: "basic",
    title: t(NOTIFY_KEYS[alert.kind][0]),
    message: t(NOTIFY_KEYS[alert.kind][1], [alert.own.fileName || "?", store]),
  };
  const id = `picguard-alert-${alert.id}`;
  try {
    await ext.notifications.create(id, { ...options,
      iconUrl: alert.other.thumb || ext.runtime.getURL("icons/icon-128.png") });
  } catch {
    await ext.notifications.create(id, { ...options,
      iconUrl: ext.runtime.getURL("icons/icon-128.png") });
  }
}

export async function refreshMarksInTabs() {
  let tabs = [];
  try {
    tabs = await ext.tabs.query({ url: await enabledPatterns() });
  } catch {
    return;
  }
  await Promise.all(tabs.map((tab) => ext.tabs.sendMessage(tab.id, { type: "refresh-marks" },
    { frameId: 0 }).catch(() => {})));
}

/** One poll: new alerts since the last one notified, badge = number of new alerts. */
export async function pollAlerts(settings) {
  const { alertCursor } = await ext.storage.local.get("alertCursor");
  const since = Number.isInteger(alertCursor) && alertCursor > 0 ? alertCursor : 0;
  const data = await callDaemon(settings, "GET", `alerts?state=new&since=${since}&limit=50`);
  const alerts = (Array.isArray(data.alerts) ? data.alerts : []).map(cleanAlert)
    .filter((a) => a && a.id > since);
  const newCount = Number.isInteger(data.counts?.new) ? data.counts.new : alerts.length;
  await setBadgeCount(newCount);
  await ext.action.setTitle({ title: newCount
    ? t("actionTitleAlerts", [String(newCount)]) : t("actionTitle") });
  if (!alerts.length) return { newCount, fresh: 0, freshCopied: 0 };
  const shown = alerts.slice(0, MAX_NOTIFICATIONS_PER_POLL);
  for (const alert of shown) await notify(alert);
  if (alerts.length > shown.length) {
    await ext.notifications.create("picguard-more", {
      type: "basic",
      iconUrl: ext.runtime.getURL("icons/icon-128.png"),
      title: t("notifyMoreTitle"),
      message: t("notifyMoreBody", [String(alerts.length - shown.length)]),
    });
  }
  await ext.storage.local.set({ alertCursor: Math.max(...alerts.map((a) => a.id)) });
  await refreshMarksInTabs();
  return { newCount, fresh: alerts.length,
    freshCopied: alerts.filter((a) => a.kind === "copied").length };
}

/** The most recent alerts of every state, newest first, for the popup. */
export async function recentAlerts(settings, limit = 10) {
  const data = await callDaemon(settings, "GET", `alerts?state=all&order=desc&limit=${limit}`);
  const alerts = (Array.isArray(data.alerts) ? data.alerts : []).map(cleanAlert).filter(Boolean);
  return { alerts: alerts.slice(0, limit),
    counts: data.counts && typeof data.counts === "object" ? data.counts : {} };
}
