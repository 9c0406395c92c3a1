// PicGuard content scripts (isolated world) share this namespace. The page cannot see it.
// Content scripts only read the page and talk to PicGuard's background; never the daemon.
"use strict";
globalThis.PicGuard = (() => {
  const ext = globalThis.browser ?? globalThis.chrome;
  const ITEM_PATH = /\/(?:item|i)\/(?:[^/?#]*\/)?(\d{6,20})\.html?/i;
  const STORE_PATH = /\/store\/(?:[^/?#]+\/)*?(\d{3,20})(?=[._/?#]|$)/i;

  /** What the current address shows: {kind: "item"|"store", id, key} or null. */
  function classify(href = location.href) {
    let url;
    try {
      url = new URL(href);
    } catch {
      return null;
    }
    const item = ITEM_PATH.exec(url.pathname);
    if (item) return { kind: "item", id: item[1], key: `item:${item[1]}` };
    const store = STORE_PATH.exec(url.pathname);
    if (store) return { kind: "store", id: store[1], key: `store:${store[1]}` };
    return null;
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
    ext, classify, t, send,
    LIMITS: { htmlBytes: 5 * 1024 * 1024, mtopBytes: 2 * 1024 * 1024, mtopText: 3 * 1024 * 1024,
      urls: 500, urlChars: 2048 },
  };
})();
