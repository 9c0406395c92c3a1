// Every call to the PicGuard daemon goes through here: token header, no cookies, timeouts,
// and one error type whose `kind` the popup and options page turn into plain words.
import { REQUEST_TIMEOUT_MS } from "./limits.js";

export class DaemonError extends Error {
  constructor(kind, { status = 0, code = "", detail = "" } = {}) {
    super(detail || kind);
    this.kind = kind;   // not_paired | unreachable | bad_token | refused | too_large |
                        // bad_request | not_found | server | not_picguard
    this.status = status;
    this.code = code;
  }
}

const KIND_OF_STATUS = { 401: "bad_token", 403: "refused", 404: "not_found", 413: "too_large" };

/** Errors after which retrying the same request later can succeed. */
export function isTransient(error) {
  return error instanceof DaemonError
    && ["not_paired", "unreachable", "bad_token", "refused", "server", "not_picguard"]
      .includes(error.kind);
}

export async function callDaemon(settings, method, path, body, { timeoutMs = REQUEST_TIMEOUT_MS,
  auth = true } = {}) {
  if (auth && !settings.token) throw new DaemonError("not_paired");
  const headers = { Accept: "application/json" };
  if (auth) headers.Authorization = `Bearer ${settings.token}`;
  const init = {
    method,
    headers,
    credentials: "omit",
    cache: "no-store",
    redirect: "error",
    referrerPolicy: "no-referrer",
    signal: AbortSignal.timeout(timeoutMs),
  };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`${settings.daemonUrl}/api/v1/${path}`, init);
  } catch (error) {
    throw new DaemonError("unreachable", { detail: String(error?.message ?? error) });
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (response.ok) {
    if (data === null || typeof data !== "object") throw new DaemonError("not_picguard");
    return data;
  }
  const kind = KIND_OF_STATUS[response.status]
    ?? (response.status >= 500 ? "server" : "bad_request");
  throw new DaemonError(kind, {
    status: response.status,
    code: typeof data?.code === "string" ? data.code : "",
    detail: typeof data?.error === "string" ? data.error : "",
  });
}

/** Is PicGuard itself answering at this address (ping needs no token)? */
export async function ping(settings) {
  const data = await callDaemon(settings, "GET", "ping", undefined, { auth: false, timeoutMs: 4000 });
  if (data.app !== "picguard") throw new DaemonError("not_picguard");
  return data;
}

/**
 * The connection state shown to the seller: connected / not_paired / not_running /
 * bad_token / refused / not_picguard, with the daemon's status when connected.
 */
export async function connectionState(settings) {
  try {
    await ping(settings);
  } catch (error) {
    const kind = error instanceof DaemonError ? error.kind : "unreachable";
    return { state: kind === "unreachable" || kind === "server" ? "not_running" : kind };
  }
  if (!settings.token) return { state: "not_paired" };
  try {
    const status = await callDaemon(settings, "GET", "status", undefined, { timeoutMs: 6000 });
    return { state: "connected", status };
  } catch (error) {
    const kind = error instanceof DaemonError ? error.kind : "unreachable";
    const state = { unreachable: "not_running", server: "not_running" }[kind] ?? kind;
    return { state };
  }
}

/**
 * A JPEG the daemon serves for a sweep (`/api/v1/sweeps/<id>/image`), as bytes. Refused
 * unless it is a JPEG of at most `maxBytes`; 403 consent_needed means image search is off.
 */
export async function fetchDaemonJpeg(settings, path, maxBytes) {
  if (!settings.token) throw new DaemonError("not_paired");
  if (!/^\/api\/v1\/sweeps\/\d+\/image$/.test(path)) throw new DaemonError("bad_request");
  let response;
  try {
    response = await fetch(`${settings.daemonUrl}${path}`, {
      headers: { Authorization: `Bearer ${settings.token}`, Accept: "image/jpeg" },
      credentials: "omit", cache: "no-store", redirect: "error", referrerPolicy: "no-referrer",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new DaemonError("unreachable", { detail: String(error?.message ?? error) });
  }
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    throw new DaemonError(KIND_OF_STATUS[response.status]
      ?? (response.status >= 500 ? "server" : "bad_request"), { status: response.status,
      code: typeof data?.code === "string" ? data.code : "",
      detail: typeof data?.error === "string" ? data.error : "" });
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length > maxBytes || bytes[0] !== 0xff || bytes[1] !== 0xd8) {
    throw new DaemonError("bad_request", { detail: "not a JPEG within the size limit" });
  }
  return bytes;
}
