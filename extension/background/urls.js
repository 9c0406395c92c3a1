// URL rules shared by the background's validators.
import { MAX_URL_CHARS } from "./limits.js";

const MARKET_HOST = /(^|\.)aliexpress\.(com|us|ru)$/i;
const ITEM_PATH = /\/(?:item|i)\/(?:[^/?#]*\/)?(\d{6,20})\.html?/i;
const STORE_PATH = /\/store\/(?:[^/?#]+\/)*?(\d{3,20})(?=[._/?#]|$)/i;

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

export function isMarketUrl(value) {
  const url = parseHttpUrl(value, 8192);
  return Boolean(url && MARKET_HOST.test(url.hostname));
}

/** "item" / "store" with its id for an AliExpress item or store page, else null. */
export function classifyMarketUrl(value) {
  const url = parseHttpUrl(value);
  if (!url || !MARKET_HOST.test(url.hostname)) return null;
  const item = ITEM_PATH.exec(url.pathname);
  if (item) return { kind: "item", id: item[1] };
  const store = STORE_PATH.exec(url.pathname);
  if (store) return { kind: "store", id: store[1] };
  return null;
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
