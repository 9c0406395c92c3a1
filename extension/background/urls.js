// URL rules shared by the background's validators.
import "../shared/sites.js";
import { MAX_URL_CHARS } from "./limits.js";

const Sites = globalThis.PicGuardSites;

export function parseHttpUrl(value, maxChars = MAX_URL_CHARS) {
  if (typeof value !== "string" || value.length === 0 || value.length > maxChars) return null;
  let url;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (url.username || url.password) return null;
  return url;
}

/** Is this an address on one of the marketplaces PicGuard knows (shared/sites.js)? */
export function isMarketUrl(value) {
  const url = parseHttpUrl(value, 8192);
  return Boolean(url && Sites.siteOf(url.href));
}

/** {site, kind: "item"|"store"|"results", id, key} for a marketplace page, else null. */
export function classifyMarketUrl(value) {
  const url = parseHttpUrl(value);
  return url ? Sites.classify(url.href) : null;
}

/**
 * The daemon's address, normalised to its origin; only http://127.0.0.1:PORT is accepted,
 * so the pairing token can never be sent anywhere but this computer.
 */
export function parseDaemonUrl(value) {
  if (typeof value !== "string") return null;
  const text = value.trim().replace(/\/+$/, "");
  if (!text || text.length > 64) return null;
  let url;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" || url.hostname !== "127.0.0.1") return null;
  if (url.username || url.password || url.search || url.hash) return null;
  if (url.pathname !== "/" && url.pathname !== "") return null;
  return url.origin;
}

export function sameOrigin(a, b) {
  const x = parseHttpUrl(a, 8192);
  const y = parseHttpUrl(b, 8192);
  return Boolean(x && y && x.origin === y.origin);
}
