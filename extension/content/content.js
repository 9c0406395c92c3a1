// PicGuard content script (isolated world), top frame of marketplace pages.
// Pushes item, store and results pages to PicGuard's background (never to the daemon),
// re-pushes when a single-page navigation changes the page or when more results arrive
// (scrolling, the next page), once per change, and marks the seller's photos.
"use strict";
(() => {
  const PG = globalThis.PicGuard;
  if (window.top !== window || PG.started) return;
  PG.started = true;
  const { ext } = PG;
  const HELLO = "picguard:connect:v1";
  const PDP_RE = /mtop\.aliexpress\.pdp\.pc\.query/i;

  let current = PG.classify();
  let lastHref = location.href;
  const mtops = new Map();  // item key -> captured mtop answer (the last few items)
  let captured = [];        // [{url, json, bytes}] page-data answers for the page on screen
  let pushedKey = null;     // the page last handed to the background
  let pushedSignature = ""; // what it held then (results: item links and captured answers)
  let pushTimer = 0;
  let blockedRetries = 0;
  let noBackgroundRetries = 0;
  const verdicts = new Map();   // image URL -> verdict
  let verdictTries = 0;
  let verdictTimer = 0;
  let lastVerdictAsk = 0;

  // A private channel to our page-world script (content/main-world.js). Posted before any
  // page script runs; messages that arrive on the window itself are never read.
  // Without it the page is still pushed, only without the captured answers.
  try {
    const channel = new MessageChannel();
    channel.port1.onmessage = (event) => onMainWorld(event.data);
    window.postMessage({ type: HELLO }, "*", [channel.port2]);
  } catch { /* no channel: no capture on this page */ }

  function onMainWorld(data) {
    if (!data || typeof data !== "object") return;
    if (data.kind === "nav") {
      checkNavigation();
      return;
    }
    if (data.kind !== "capture" || typeof data.url !== "string") return;
    checkNavigation();
    if (current && current.site === "aliexpress" && PDP_RE.test(data.url)) {
      onMtop(data.text);
      return;
    }
    if (!current || !PG.Sites.isCapture(current.site, data.url)) return;
    const parsed = PG.parseCaptured(data.text);
    if (!parsed) return;
    const total = captured.reduce((sum, c) => sum + c.bytes, 0) + parsed.bytes;
    if (captured.length >= PG.LIMITS.captures || total > PG.LIMITS.capturedBytes) return;
    captured.push({ url: data.url.slice(0, PG.LIMITS.urlChars), json: parsed.json,
      bytes: parsed.bytes, at: Date.now() });
    if (pushedKey === current.key) schedulePush("capture", 800);
  }

  function onMtop(text) {
    const parsed = PG.parseMtop(text);
    if (!parsed) return;
    // Filed under the item it names; one without an id belongs to the item on screen
    // (aliexpress.us shows a second id space in its URLs, so there the screen wins).
    const usSite = /(^|\.)aliexpress\.us$/i.test(location.hostname);
    const key = parsed.id && !usSite ? `aliexpress:item:${parsed.id}` : current && current.key;
    if (!key) return;
    mtops.delete(key);
    mtops.set(key, parsed.data);
    while (mtops.size > 3) mtops.delete(mtops.keys().next().value);
    if (current && key === current.key && pushedKey === current.key) schedulePush("mtop", 300);
  }

  /** What the page holds now: a results page is pushed again only when this changes. */
  function signature() {
    if (!current) return "";
    if (current.kind !== "results") return `${current.key}|${mtops.has(current.key)}`;
    return `${current.key}|${PG.itemLinks().length}|${captured.length}`;
  }

  function schedulePush(trigger, delay) {
    clearTimeout(pushTimer);
    pushTimer = setTimeout(() => push(trigger), delay);
  }

  async function push(trigger) {
    if (!current) return;
    const key = current.key;
    const now = signature();
    if (key === pushedKey && now === pushedSignature && trigger !== "retry") return;
    const { html } = PG.pageHtml();
    const message = { type: "page", url: location.href, html, trigger };
    if (mtops.has(key)) message.mtop = mtops.get(key);
    if (captured.length) message.captured = captured.map(({ url, json }) => ({ url, json }));
    pushedKey = key;
    pushedSignature = now;
    const answer = await PG.send(message);
    if (answer && answer.error === "no_background" && key === current?.key) {
      // Nobody was listening yet (Firefox starts its background script on demand): forget
      // this push so the retry sends the page again, a few times, backing off.
      pushedKey = null;
      pushedSignature = "";
      if (noBackgroundRetries < 5) {
        noBackgroundRetries += 1;
        schedulePush("retry", 500 * 2 ** noBackgroundRetries);
      }
    } else {
      noBackgroundRetries = 0;
    }
  }

  function checkNavigation() {
    if (location.href === lastHref) return;
    lastHref = location.href;
    const now = PG.classify();
    if ((now && now.key) === (current && current.key)) return;
    // The next results page's data may arrive just before the address changes: answers
    // of the last few seconds go with the new results page.
    captured = now && now.kind === "results" && current && current.kind === "results"
      ? captured.filter((c) => Date.now() - c.at < 5000) : [];
    current = now;
    pushedKey = null;
    pushedSignature = "";
    blockedRetries = 0;
    verdicts.clear();
    verdictTries = 0;
    clearTimeout(verdictTimer);
    PG.clearMarks();
    if (current) schedulePush("spa", 1500);
  }

  function applyMarks() {
    for (const img of document.images) {
      let verdict = null;
      for (const value of [img.currentSrc, img.getAttribute("src"), img.getAttribute("data-src")]) {
        if (!value) continue;
        let href;
        try {
          href = new URL(value, location.href).href;
        } catch {
          continue;
        }
        if (verdicts.has(href)) {
          verdict = verdicts.get(href);
          break;
        }
      }
      if (verdict) PG.mark(img, verdict);
    }
  }

  async function askVerdicts() {
    clearTimeout(verdictTimer);
    if (!current || pushedKey !== current.key) return;
    const key = current.key;
    lastVerdictAsk = Date.now();
    const urls = PG.imageUrls();
    if (!urls.length) return;
    const answer = await PG.send({ type: "verdicts", pageUrl: location.href, urls });
    if (!answer || !answer.ok || !Array.isArray(answer.verdicts) || key !== current?.key) return;
    for (const v of answer.verdicts) verdicts.set(v.url, v.verdict);
    applyMarks();
    // Images not fetched yet: ask again a few times, further apart each time. New alerts
    // also make the background send "refresh-marks".
    if (answer.verdicts.some((v) => v.verdict === "unknown") && verdictTries < 6) {
      verdictTries += 1;
      verdictTimer = setTimeout(askVerdicts, 3000 * 2 ** (verdictTries - 1));
    }
  }

  ext.runtime.onMessage.addListener((message, sender) => {
    if (!sender || sender.id !== ext.runtime.id || sender.tab) return;   // background only
    if (!message || typeof message !== "object") return;
    if (message.type === "pushed") {
      const pushed = PG.classify(message.url);
      if (!current || !pushed || pushed.key !== current.key) return;
      if (message.status === "blocked" && blockedRetries < 3) {
        // A captcha stood in for the page: try again once the seller has solved it.
        blockedRetries += 1;
        schedulePush("retry", 20000);
        return;
      }
      verdictTries = 0;
      askVerdicts();
    } else if (message.type === "refresh-marks") {
      verdictTries = 0;
      askVerdicts();
    }
  });

  // Initial push once the page has settled; a later `load` pushes the fuller DOM instead.
  function onReady(delay) {
    if (current && !pushedKey) schedulePush("load", delay);
  }
  if (document.readyState === "complete") onReady(600);
  else {
    document.addEventListener("DOMContentLoaded", () => onReady(3000), { once: true });
    addEventListener("load", () => onReady(600), { once: true });
  }

  // Single-page navigations: the page-world hook reports pushState/replaceState; popstate
  // and a slow check cover the rest.
  addEventListener("popstate", checkNavigation);
  addEventListener("hashchange", checkNavigation);
  setInterval(checkNavigation, 1000);

  // Images added later (lazy galleries, carousels, results that arrive by scrolling): ask
  // about the new ones; a results page that gained items is pushed again.
  let mutationTimer = 0;
  new MutationObserver(() => {
    clearTimeout(mutationTimer);
    mutationTimer = setTimeout(() => {
      if (!current || pushedKey !== current.key) return;
      if (current.kind === "results" && signature() !== pushedSignature) {
        schedulePush("more", 500);
        return;
      }
      if (Date.now() - lastVerdictAsk < 2000) return;
      const fresh = PG.imageUrls().some((url) => !verdicts.has(url));
      if (fresh) askVerdicts();
      else applyMarks();
    }, 1000);
  }).observe(document, { childList: true, subtree: true, attributes: true,
    attributeFilter: ["src", "data-src"] });

  PG.state = () => ({ current, pushedKey, pushedSignature, captured: captured.length,
    hasMtop: Boolean(current && mtops.has(current.key)),
    verdicts: Object.fromEntries(verdicts), marked: PG.markedImages() });
})();
