// Settings in storage.local: the daemon's address and the pairing token (never handed to
// content scripts or web pages), plus the alert poll interval.
import { ext } from "./ext.js";
import { DEFAULT_POLL_SECONDS, MIN_POLL_SECONDS } from "./limits.js";
import { parseDaemonUrl } from "./urls.js";

export const DEFAULT_DAEMON_URL = "http://127.0.0.1:8765";
const TOKEN_RE = /^[A-Za-z0-9_\-.~+/=]{16,256}$/;

export function cleanToken(value) {
  if (typeof value !== "string") return null;
  const token = value.trim();
  return TOKEN_RE.test(token) ? token : null;
}

export async function getSettings() {
  const stored = await ext.storage.local.get(["daemonUrl", "token", "pollSeconds"]);
  const seconds = Number(stored.pollSeconds);
  return {
    daemonUrl: parseDaemonUrl(stored.daemonUrl) ?? DEFAULT_DAEMON_URL,
    token: cleanToken(stored.token),
    pollSeconds: Number.isFinite(seconds) && seconds >= MIN_POLL_SECONDS
      ? Math.min(seconds, 3600) : DEFAULT_POLL_SECONDS,
  };
}

/**
 * Keep storage.local away from content scripts where the browser allows it (Chromium);
 * content scripts never read it anyway. Firefox has no such switch.
 */
export async function restrictStorage() {
  try {
    await ext.storage.local.setAccessLevel?.({ accessLevel: "TRUSTED_CONTEXTS" });
    return true;
  } catch {
    return false;
  }
}
