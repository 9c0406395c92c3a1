// The context menu on images: "Check this image with PicGuard".
import { callDaemon, DaemonError } from "./daemon.js";
import { ext, t } from "./ext.js";
import { MAX_CHECK_IMAGE_BYTES } from "./limits.js";
import { getSettings } from "./settings.js";
import { parseHttpUrl } from "./urls.js";

export const MENU_CHECK_IMAGE = "picguard-check-image";
const DATA_IMAGE_RE = /^data:image\/[a-z0-9.+-]+;base64,([A-Za-z0-9+/=\s]+)$/i;

export async function createMenus() {
  await ext.contextMenus.removeAll();
  ext.contextMenus.create({ id: MENU_CHECK_IMAGE, title: t("menuCheckImage"),
    contexts: ["image"] });
}

function body(srcUrl) {
  if (parseHttpUrl(srcUrl, 8192)) return { url: srcUrl };
  const match = typeof srcUrl === "string" && srcUrl.length <= MAX_CHECK_IMAGE_BYTES * 1.4
    ? DATA_IMAGE_RE.exec(srcUrl) : null;
  if (match) return { image: match[1].replace(/\s+/g, "") };
  return null;
}

async function show(title, message) {
  await ext.notifications.create(`picguard-check-${Date.now()}`, {
    type: "basic", iconUrl: ext.runtime.getURL("icons/icon-128.png"), title, message,
  });
}

const JOB_RE = /^[A-Za-z0-9_-]{1,64}$/;
const CHECK_POLL_MS = 1000;
const CHECK_MAX_MS = 90000;

/** A check the daemon runs as a job (202 {job, poll}): ask again until it is done. */
async function finishedCheck(settings, first) {
  let answer = first;
  const deadline = Date.now() + CHECK_MAX_MS;
  while (answer && answer.status !== "done" && typeof answer.job === "string"
      && JOB_RE.test(answer.job) && !("resembles" in answer)) {
    if (Date.now() > deadline) throw new DaemonError("server", { detail: "check timed out" });
    await new Promise((resolve) => setTimeout(resolve, CHECK_POLL_MS));
    answer = await callDaemon(settings, "GET", `check/${answer.job}`);
  }
  return answer;
}

/** Ask the daemon whether another store shows a photo like this one; answer in a notification. */
export async function checkImage(srcUrl) {
  const request = body(srcUrl);
  if (!request) {
    await show(t("checkTitle"), t("checkUnsupported"));
    return { ok: false, error: "unsupported" };
  }
  try {
    const settings = await getSettings();
    const answer = await finishedCheck(settings, await callDaemon(settings, "POST", "check",
      request, { timeoutMs: 60000 }));
    const hits = Array.isArray(answer.hits) ? answer.hits : [];
    if (answer.resembles && hits.length) {
      const stores = [...new Set(hits.map((h) => (typeof h.store_name === "string" && h.store_name)
        || (typeof h.store_id === "string" && h.store_id) || t("unknownStore")))];
      await show(t("checkFoundTitle"), t("checkFoundBody",
        [String(hits.length), stores.slice(0, 3).join(", ").slice(0, 200)]));
    } else {
      await show(t("checkTitle"), t("checkClear"));
    }
    return { ok: true, resembles: Boolean(answer.resembles), hits: hits.length };
  } catch (error) {
    const kind = error instanceof DaemonError ? error.kind : "unreachable";
    await show(t("checkTitle"), t(`error_${kind}`));
    return { ok: false, error: kind };
  }
}
