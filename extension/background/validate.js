// Validation of every message the background accepts. A message is data from a content
// script (which runs inside a marketplace page's renderer) or from the extension's own
// pages; nothing is trusted because of what it claims to be.
import { ext } from "./ext.js";
import {
  MAX_HTML_BYTES, MAX_MTOP_BYTES, MAX_URL_CHARS, MAX_VERDICT_URLS,
} from "./limits.js";
import { classifyMarketUrl, isMarketUrl, parseHttpUrl, sameOrigin } from "./urls.js";

const Sites = globalThis.PicGuardSites;   // defined by shared/sites.js (imported by urls.js)

export class Rejected extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

const encoder = new TextEncoder();
export const utf8Bytes = (s) => encoder.encode(s).length;

const CONTENT_TYPES = new Set(["page", "verdicts"]);
const PAGE_TYPES = new Set(["status", "alerts", "alert-action", "watch", "test-connection",
  "open-dashboard", "poll-now", "open-alert", "sites", "sites-sync", "coverage",
  "start-sweep", "discovery-get", "discovery-set"]);
const TRIGGERS = new Set(["load", "spa", "mtop", "retry", "capture", "more"]);
const MAX_CAPTURED = 12;
const SWEEP_KINDS = new Set(["image", "keyword"]);
const DISCOVERY_KEYS = { image_search_consent: "boolean", pause_when_idle: "boolean",
  keywords: "keywords" };

/**
 * Who sent it: "content" (our content script, top frame of a marketplace tab), "page"
 * (our popup or options page), or null (anything else: refused).
 */
export function senderKind(sender) {
  if (!sender || sender.id !== ext.runtime.id) return null;
  const base = ext.runtime.getURL("");
  if (typeof sender.url === "string" && sender.url.startsWith(base)
      && (!sender.origin || `${sender.origin}/` === base)) {
    return "page";
  }
  if (sender.tab && Number.isInteger(sender.tab.id) && sender.frameId === 0
      && isMarketUrl(sender.url)) {
    return "content";
  }
  return null;
}

function exactKeys(msg, required, optional = []) {
  const allowed = new Set([...required, ...optional]);
  for (const key of Object.keys(msg)) if (!allowed.has(key)) throw new Rejected("unknown_field");
  for (const key of required) if (!(key in msg)) throw new Rejected("missing_field");
}

function plainObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    && Object.getPrototypeOf(value) === Object.prototype;
}

function checkPage(msg, sender) {
  exactKeys(msg, ["type", "url", "html"], ["mtop", "trigger", "captured"]);
  const url = parseHttpUrl(msg.url);
  if (!url || !classifyMarketUrl(msg.url)) throw new Rejected("bad_url");
  if (!sameOrigin(msg.url, sender.url)) throw new Rejected("url_not_tab");
  if (typeof msg.html !== "string" || !msg.html.trim()) throw new Rejected("bad_html");
  // UTF-16 length is a lower bound of the UTF-8 size: refuse obvious giants before encoding.
  if (msg.html.length > MAX_HTML_BYTES) throw new Rejected("too_large");
  const htmlBytes = utf8Bytes(msg.html);
  if (htmlBytes > MAX_HTML_BYTES) throw new Rejected("too_large");
  let mtop = null;
  let mtopBytes = 0;
  if (msg.mtop !== undefined && msg.mtop !== null) {
    if (!plainObject(msg.mtop)) throw new Rejected("bad_mtop");
    const text = JSON.stringify(msg.mtop);
    mtopBytes = utf8Bytes(text);
    if (mtopBytes > MAX_MTOP_BYTES) throw new Rejected("too_large");
    mtop = JSON.parse(text);
  }
  if (msg.trigger !== undefined && !TRIGGERS.has(msg.trigger)) throw new Rejected("bad_trigger");
  const { captured, capturedBytes } = checkCaptured(msg.captured, sender);
  if (mtopBytes + capturedBytes > 2 * MAX_MTOP_BYTES) throw new Rejected("too_large");
  const page = { url: url.href, html: msg.html, mtop };
  if (captured.length) page.captured = captured;
  return { page, bytes: htmlBytes + mtopBytes + capturedBytes + 64 };
}

/**
 * Page-data answers the page fetched for itself: [{url, json}], each from the tab's own
 * marketplace (AliExpress results lists, Shopee's product JSON), sizes capped.
 */
function checkCaptured(value, sender) {
  if (value === undefined || value === null) return { captured: [], capturedBytes: 0 };
  if (!Array.isArray(value) || value.length > MAX_CAPTURED) throw new Rejected("bad_captured");
  const site = Sites.siteOf(sender.url);
  const captured = [];
  let capturedBytes = 0;
  for (const entry of value) {
    if (!plainObject(entry) || Object.keys(entry).sort().join() !== "json,url") {
      throw new Rejected("bad_captured");
    }
    const url = parseHttpUrl(entry.url, MAX_URL_CHARS);
    if (!url || !site || Sites.siteOf(url.href) !== site || !Sites.isCapture(site.id, url.href)) {
      throw new Rejected("bad_captured");
    }
    if (!plainObject(entry.json)) throw new Rejected("bad_captured");
    const text = JSON.stringify(entry.json);
    capturedBytes += utf8Bytes(text);
    if (capturedBytes > 2 * MAX_MTOP_BYTES) throw new Rejected("too_large");
    captured.push({ url: url.href, json: JSON.parse(text) });
  }
  return { captured, capturedBytes };
}

function checkVerdicts(msg, sender) {
  exactKeys(msg, ["type", "pageUrl", "urls"]);
  if (!isMarketUrl(msg.pageUrl) || !sameOrigin(msg.pageUrl, sender.url)) {
    throw new Rejected("bad_url");
  }
  if (!Array.isArray(msg.urls) || msg.urls.length > MAX_VERDICT_URLS) {
    throw new Rejected("too_many_urls");
  }
  const urls = [];
  for (const value of msg.urls) {
    const url = parseHttpUrl(value, MAX_URL_CHARS);
    if (!url) throw new Rejected("bad_url");
    urls.push(value);
  }
  return { pageUrl: msg.pageUrl, urls: [...new Set(urls)] };
}

/** The discovery settings the extension's pages may change (the daemon checks them too). */
function checkDiscovery(values) {
  if (!plainObject(values)) throw new Rejected("bad_field");
  const clean = {};
  for (const [key, value] of Object.entries(values)) {
    const type = DISCOVERY_KEYS[key];
    if (!type) throw new Rejected("unknown_field");
    if (type === "boolean") {
      if (typeof value !== "boolean") throw new Rejected("bad_field");
      clean[key] = value;
    } else {
      if (!Array.isArray(value) || value.length > 100
          || value.some((k) => typeof k !== "string" || k.length > 200)) {
        throw new Rejected("bad_field");
      }
      clean[key] = value.map((k) => k.trim()).filter(Boolean);
    }
  }
  return clean;
}

/** Returns the cleaned message, or throws Rejected. */
export function validate(msg, sender) {
  const kind = senderKind(sender);
  if (!kind) throw new Rejected("bad_sender");
  if (!plainObject(msg) || typeof msg.type !== "string") throw new Rejected("bad_message");
  if (kind === "content") {
    if (!CONTENT_TYPES.has(msg.type)) throw new Rejected("not_allowed");
    if (msg.type === "page") return { type: "page", kind, ...checkPage(msg, sender) };
    return { type: "verdicts", kind, ...checkVerdicts(msg, sender) };
  }
  if (!PAGE_TYPES.has(msg.type)) throw new Rejected("not_allowed");
  switch (msg.type) {
    case "status":
    case "open-dashboard":
    case "poll-now":
      exactKeys(msg, ["type"]);
      return { type: msg.type, kind };
    case "alerts":
      exactKeys(msg, ["type"], ["limit"]);
      if (msg.limit !== undefined && !(Number.isInteger(msg.limit) && msg.limit > 0
          && msg.limit <= 50)) throw new Rejected("bad_limit");
      return { type: msg.type, kind, limit: msg.limit ?? 10 };
    case "alert-action":
      exactKeys(msg, ["type", "id", "action"]);
      if (!Number.isInteger(msg.id) || msg.id < 1) throw new Rejected("bad_id");
      if (!["confirm", "dismiss", "not_mine"].includes(msg.action)) {
        throw new Rejected("bad_action");
      }
      return { type: msg.type, kind, id: msg.id, action: msg.action };
    case "watch": {
      exactKeys(msg, ["type", "url"]);
      const what = classifyMarketUrl(msg.url);
      if (!what || what.kind === "results") throw new Rejected("bad_url");
      return { type: msg.type, kind, url: msg.url };
    }
    case "sites":
    case "sites-sync":
    case "coverage":
    case "discovery-get":
      exactKeys(msg, ["type"]);
      return { type: msg.type, kind };
    case "open-alert":
      exactKeys(msg, ["type", "id"]);
      if (!Number.isInteger(msg.id) || msg.id < 1) throw new Rejected("bad_id");
      return { type: msg.type, kind, id: msg.id };
    case "start-sweep":
      exactKeys(msg, ["type", "sweep"]);
      if (!SWEEP_KINDS.has(msg.sweep)) throw new Rejected("bad_field");
      return { type: msg.type, kind, sweep: msg.sweep };
    case "discovery-set":
      exactKeys(msg, ["type", "values"]);
      return { type: msg.type, kind, values: checkDiscovery(msg.values) };
    case "test-connection":
      exactKeys(msg, ["type", "daemonUrl", "token"]);
      if (typeof msg.daemonUrl !== "string" || msg.daemonUrl.length > 200
          || typeof msg.token !== "string" || msg.token.length > 1000) {
        throw new Rejected("bad_field");
      }
      return { type: msg.type, kind, daemonUrl: msg.daemonUrl, token: msg.token };
    default:
      throw new Rejected("not_allowed");
  }
}
