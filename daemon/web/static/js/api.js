// The daemon's API with the pairing token. The token arrives in the URL fragment
// (`#token=...`, printed by `picguard serve`; a fragment never reaches a server or a log),
// is kept in localStorage for this origin only, and is removed from the address bar.
const KEY = "picguard-token";

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

// Accepts `#token=T` (what `picguard serve` prints) and `#/alerts/12&token=T` (a deep link,
// e.g. from the extension's popup): the route is kept, the token is stripped.
export function takeTokenFromFragment() {
  const match = location.hash.match(/(?:^#|&)token=([A-Za-z0-9_-]{20,})/);
  if (match) {
    localStorage.setItem(KEY, match[1]);
    const rest = location.hash.replace(match[0], "").replace(/^#?&?/, "");
    history.replaceState(null, "", `${location.pathname}#${rest.startsWith("/") ? rest : "/alerts"}`);
  }
  return localStorage.getItem(KEY);
}

export const token = () => localStorage.getItem(KEY);
export const setToken = (value) => localStorage.setItem(KEY, value);
export const forgetToken = () => localStorage.removeItem(KEY);

function headers(json) {
  const h = { Authorization: `Bearer ${token() || ""}` };
  if (json) h["Content-Type"] = "application/json";
  return h;
}

async function failure(response) {
  let body = {};
  try { body = await response.json(); } catch { /* not JSON */ }
  return new ApiError(response.status, body.code || "http_" + response.status,
                      body.error || response.statusText, body);
}

// JSON in, JSON out; state-changing calls always carry a JSON body (the CSRF rule).
export async function api(path, { method = "GET", body, raw = false } = {}) {
  const send = method !== "GET" && method !== "DELETE";
  const response = await fetch(`/api/v1/${path}`, {
    method, headers: headers(send), credentials: "omit", cache: "no-store",
    body: send ? JSON.stringify(body ?? {}) : undefined,
  });
  if (!response.ok) throw await failure(response);
  if (raw) return response;
  return { ...(await response.json()), _http: response.status };
}

export async function apiBlob(path, options = {}) {
  const response = await api(path, { ...options, raw: true });
  return response.blob();
}

// Absolute poll URLs from the daemon (`{"poll": "/api/v1/..."}`) back to a path for api().
export const apiPath = (url) => url.replace(/^.*?\/api\/v1\//, "");

// One file as multipart/form-data with upload progress (fetch has no upload progress).
export function upload(path, file, fields, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1/${path}`);
    xhr.setRequestHeader("Authorization", `Bearer ${token() || ""}`);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener("load", () => {
      const body = xhr.response || {};
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body.code || "http_" + xhr.status,
                               body.error || xhr.statusText, body));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network", "network error")));
    const form = new FormData();
    form.append("file", file, file.name);
    for (const [k, v] of Object.entries(fields || {})) if (v) form.append(k, v);
    xhr.send(form);
  });
}

export function fileBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}
