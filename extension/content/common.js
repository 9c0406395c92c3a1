// PicGuard content scripts (isolated world) share this namespace. The page cannot see it.
// Content scripts only read the page and talk to PicGuard's background; never the daemon.
"use strict";
globalThis.PicGuard = (() => {
  const ext = globalThis.browser ?? globalThis.chrome;
  const Sites = globalThis.PicGuardSites;   // shared/sites.js, loaded just before

  /**
   * What the current address shows: {site, kind: "item"|"store"|"results", id, key} or
   * null (a page PicGuard leaves alone).
   */
  function classify(href = location.href) {
    return Sites.classify(href);
  }

  function t(key, substitutions) {
    return ext.i18n.getMessage(key, substitutions) || key;
  }

  async function send(message) {
    try {
      return await ext.runtime.sendMessage(message);
    } catch {
      return { ok: false, error: "no_background" };
    }
  }

  return {
    ext, classify, t, send, Sites,
    LIMITS: { htmlBytes: 5 * 1024 * 1024, mtopBytes: 2 * 1024 * 1024, mtopText: 3 * 1024 * 1024,
      urls: 500, urlChars: 2048, captures: 12, capturedBytes: 4 * 1024 * 1024 },
  };
})();
