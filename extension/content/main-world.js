// PicGuard, page (MAIN) world, marketplace tabs only, document_start.
// Captures the page-data answers the page fetches for itself (AliExpress: the item's
// `mtop.aliexpress.pdp.pc.query` and the results lists that arrive by scrolling or paging;
// Shopee: its product JSON), and single-page navigations, and hands them to PicGuard's isolated content script over a
// private MessageChannel. It changes nothing the page sees: responses are cloned, the
// original objects are returned untouched, and no global is added.
(() => {
  "use strict";
  const HELLO = "picguard:connect:v1";
  // Kept in step with CAPTURE in shared/sites.js (not loaded here: this world is the page's,
  // and PicGuard adds no global to it). The isolated script keeps only its site's answers.
  const CAPTURE_RES = [/mtop\.aliexpress\.pdp\.pc\.query/i, /\/fn\/search-pc\/index/i,
    /mtop\.aliexpress\.(?:[a-z.]*search[a-z.]*|store\.[a-z.]*(?:list|items?)[a-z.]*)/i,
    /\/api\/v4\/pdp\/get_pc\b/i, /\/api\/v4\/item\/get\b/i, /\/api\/v4\/search\/search_items\b/i];
  const wanted = (url) => CAPTURE_RES.some((re) => re.test(url));
  const MAX_TEXT = 3 * 1024 * 1024;
  let port = null;
  const pending = [];

  function send(message) {
    if (port) port.postMessage(message);
    else if (pending.length < 8) pending.push(message);
  }

  // The isolated script posts its port first thing (before any page script can run);
  // only that first hello is taken, and nobody after us sees it.
  function onHello(event) {
    const data = event.data;
    if (port || event.source !== window || !data || data.type !== HELLO
        || !event.ports || event.ports.length !== 1) return;
    event.stopImmediatePropagation();
    port = event.ports[0];
    window.removeEventListener("message", onHello, true);
    while (pending.length) port.postMessage(pending.shift());
  }
  window.addEventListener("message", onHello, true);

  function capture(url, text) {
    if (typeof text === "string" && text.length > 0 && text.length <= MAX_TEXT) {
      send({ kind: "capture", url: String(url).slice(0, 4096), text, href: location.href });
    }
  }

  const urlOf = (input) => {
    try {
      return typeof input === "string" ? input : input instanceof URL ? input.href
        : input && typeof input.url === "string" ? input.url : "";
    } catch {
      return "";
    }
  };

  const originalFetch = window.fetch;
  if (typeof originalFetch === "function") {
    const wrapped = function fetch(input, init) {
      const promise = originalFetch.apply(this, arguments);
      let url = urlOf(input);
      try {
        url = new URL(url, location.href).href;
      } catch { /* keep as given */ }
      if (wanted(url)) {
        promise.then((response) => {
          try {
            response.clone().text().then((text) => capture(url, text), () => {});
          } catch { /* body already used: nothing to capture */ }
        }, () => {});
      }
      return promise;
    };
    Object.defineProperty(wrapped, "toString", { value: () => originalFetch.toString() });
    window.fetch = wrapped;
  }

  const XHR = window.XMLHttpRequest && window.XMLHttpRequest.prototype;
  if (XHR) {
    const originalOpen = XHR.open;
    XHR.open = function open(method, url) {
      let target = urlOf(url);
      try {
        target = new URL(target, location.href).href;
      } catch { /* keep as given */ }
      if (wanted(target)) {
        this.addEventListener("load", () => {
          try {
            const type = this.responseType;
            if (type === "" || type === "text") capture(target, this.responseText);
            else if (type === "json" && this.response) capture(target, JSON.stringify(this.response));
          } catch { /* unreadable response */ }
        }, { once: true });
      }
      return originalOpen.apply(this, arguments);
    };
  }

  // Single-page navigations: AliExpress swaps items with history.pushState.
  for (const name of ["pushState", "replaceState"]) {
    const original = history[name];
    if (typeof original !== "function") continue;
    history[name] = function () {
      const result = original.apply(this, arguments);
      send({ kind: "nav", href: location.href });
      return result;
    };
  }
})();
