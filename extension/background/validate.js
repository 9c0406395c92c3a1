// Validation of every message the background accepts. A message is data from a content
// script (which runs inside a marketplace page's renderer) or from the extension's own
// pages; nothing is trusted because of what it claims to be.
import { ext } from "./ext.js";
import {
  MAX_HTML_BYTES, MAX_MTOP_BYTES, MAX_URL_CHARS, MAX_VERDICT_URLS,
} from "./limits.js";
import { classifyMarketUrl, isMarketUrl, parseHttpUrl, sameOrigin } from "./urls.js";

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
  "open-dashboard", "poll-now"]);
const TRIGGERS = new Set(["load", "spa", "mtop", "retry"]);

/**
 * Who sent it: "content" (our content script, top frame of an AliExpress tab), "page"
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
  exactKeys(msg, ["type", "url", "html"], ["mtop", "trigger"]);
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
  return { page: { url: url.href, html: msg.html, mtop }, bytes: htmlBytes + mtopBytes + 64 };
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
    case "watch":
      exactKeys(msg, ["type", "url"]);
      if (!classifyMarketUrl(msg.url)) throw new Rejected("bad_url");
      return { type: msg.type, kind, url: msg.url };
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
