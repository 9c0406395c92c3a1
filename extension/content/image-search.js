// AliExpress search by image, run inside an AliExpress tab of the seller's own session
// (injected by the background's sweeps with scripting.executeScript, never a page of the
// daemon): uploads the JPEG through the page's mtop upload and answers the file id.
// The photo goes to the marketplace only here, and only once the seller turned it on.
"use strict";
globalThis.PicGuardImageSearch = globalThis.PicGuardImageSearch || (() => {
  const md5 = globalThis.PicGuardMd5;
  const TOKEN_RE = /FAIL_SYS_TOKEN_(?:EMPTY|EXOIRED|EXPIRED|ILLEGAL)/;
  const BLOCK_RE = /FAIL_SYS_USER_VALIDATE|RGV587_ERROR|FAIL_SYS_ILLEGAL_ACCESS/;

  function h5Token() {
    const match = /(?:^|;\s*)_m_h5_tk=([^;_]+)_/.exec(document.cookie);
    return match ? match[1] : "";
  }

  async function call(request, data, token) {
    const t = String(Date.now());
    const sign = md5([token, t, request.appKey, data].join("&"));
    const query = new URLSearchParams({ jsv: "2.5.1", appKey: request.appKey, t, sign,
      api: request.api, v: "1.0", type: "originaljson", dataType: "json", timeout: "50000" });
    const url = `${location.protocol}//${request.host}/h5/${request.api.toLowerCase()}/1.0/?${query}`;
    const response = await fetch(url, {
      method: "POST", credentials: "include", cache: "no-store",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `data=${encodeURIComponent(data)}`,
      signal: AbortSignal.timeout(60000),
    });
    const punish = new RegExp(request.punish, "i");
    if (response.redirected && punish.test(response.url)) return { blocked: response.url };
    const text = await response.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      return punish.test(text.slice(0, 20000)) ? { blocked: "punish page" }
        : { error: `upload answered ${response.status} without JSON` };
    }
    const ret = Array.isArray(json?.ret) ? json.ret.join(" ") : String(json?.ret ?? "");
    if (BLOCK_RE.test(ret) || punish.test(String(json?.data?.url ?? ""))) return { blocked: ret };
    return { json, ret };
  }

  /**
   * {status: "ok", fileId} | {status: "blocked", detail} | {status: "failed", error}.
   * Only a file id of plain characters is returned (it goes into the results address).
   */
  return async function imageSearch(request) {
    try {
      const params = { appId: request.appId, isNewImageSearch: true, osf: "pc_web_image_search",
        page: 1, pageSize: 60, clientType: "pc", searchBizScene: "imageSearch",
        subScenario: "imageUpload", contentType: "imageUpload", image_base64: request.jpegBase64,
        sortType: "default", sortOrder: "default", timeout: 50000, platform: "pc" };
      const data = JSON.stringify({ appId: request.appId, params: JSON.stringify(params) });
      let answer = await call(request, data, h5Token());
      // The first call of a session only hands out the token cookie: sign again with it.
      if (!answer.blocked && !answer.error && TOKEN_RE.test(answer.ret)) {
        answer = await call(request, data, h5Token());
      }
      if (answer.blocked) return { status: "blocked", detail: String(answer.blocked).slice(0, 300) };
      if (answer.error) return { status: "failed", error: answer.error };
      const fileId = answer.json?.data?.fileId ?? answer.json?.data?.data?.fileId;
      if (typeof fileId !== "string" || !/^[\w./%=-]{1,300}$/.test(fileId)) {
        return { status: "failed", error: `no file id (${answer.ret.slice(0, 200)})` };
      }
      return { status: "ok", fileId };
    } catch (error) {
      return { status: "failed", error: String(error?.message ?? error).slice(0, 300) };
    }
  };
})();
