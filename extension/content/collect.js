// Reading the page: its HTML (capped), the captured mtop response (validated), image URLs.
"use strict";
(() => {
  const PG = globalThis.PicGuard;
  const encoder = new TextEncoder();
  const bytes = (s) => encoder.encode(s).length;
  // Scripts that carry listing data in every known page generation.
  const DATA_MARKERS = /runParams|_d_c_|DCData|_dida_config_|_init_data_|pageConfig|imagePathList|shopPageDataApi/;

  function doctype() {
    const d = document.doctype;
    return d ? `<!DOCTYPE ${d.name}>\n` : "";
  }

  /**
   * The page's HTML as the scraper needs it, at most LIMITS.htmlBytes (UTF-8). A page over
   * the cap is reduced to what carries listing data: head metadata, data scripts, images
   * and item links; if even that is too big, it is cut.
   */
  function pageHtml() {
    const full = doctype() + document.documentElement.outerHTML;
    if (full.length * 3 <= PG.LIMITS.htmlBytes || bytes(full) <= PG.LIMITS.htmlBytes) {
      return { html: full, reduced: false };
    }
    const parts = [];
    for (const node of document.head ? document.head.querySelectorAll(
      "title, meta, link[rel=canonical], link[rel=alternate]") : []) {
      parts.push(node.outerHTML);
    }
    for (const script of document.scripts) {
      if (!script.src && DATA_MARKERS.test(script.textContent.slice(0, 200000))) {
        parts.push(script.outerHTML);
      }
    }
    const body = [];
    for (const img of document.images) {
      const src = img.currentSrc || img.getAttribute("src") || "";
      const lazy = img.getAttribute("data-src") || "";
      body.push(`<img src="${escapeAttr(src)}"${lazy ? ` data-src="${escapeAttr(lazy)}"` : ""}>`);
    }
    for (const href of itemLinks()) body.push(`<a href="${escapeAttr(href)}"></a>`);
    let html = `${doctype()}<html><head>${parts.join("\n")}</head><body>${body.join("\n")}</body></html>`;
    while (bytes(html) > PG.LIMITS.htmlBytes) {
      html = html.slice(0, Math.floor(html.length * 0.9));
    }
    return { html, reduced: true };
  }

  function escapeAttr(value) {
    return String(value).slice(0, PG.LIMITS.urlChars).replace(/&/g, "&amp;")
      .replace(/"/g, "&quot;").replace(/</g, "&lt;");
  }

  /**
   * A captured mtop response as {id, data}, or null. The text came from the page's world,
   * so it is untrusted: size-checked, parsed (JSONP wrappers allowed), and it must look like
   * a pdp.pc.query answer. `id` is the product id inside it (null when it has none): the
   * caller files it under that item, so an answer never lands on another item's push.
   */
  function parseMtop(text) {
    if (typeof text !== "string" || text.length > PG.LIMITS.mtopText) return null;
    let body = text.trim();
    const jsonp = /^[\w$.]{1,64}\(([\s\S]*)\);?$/.exec(body);
    if (jsonp) body = jsonp[1];
    let obj;
    try {
      obj = JSON.parse(body);
    } catch {
      return null;
    }
    if (!obj || typeof obj !== "object" || Array.isArray(obj)) return null;
    const result = obj.data?.result ?? obj.data ?? null;
    if (!result || typeof result !== "object") return null;
    const known = ["HEADER_IMAGE_PC", "GLOBAL_DATA", "SHOP_CARD_PC", "PRODUCT_TITLE", "SKU"];
    if (!known.some((k) => k in result)) return null;
    const rawId = result.GLOBAL_DATA?.globalData?.productId ?? result.PRICE?.productId;
    const id = (typeof rawId === "string" || typeof rawId === "number")
      && /^\d{6,20}$/.test(String(rawId)) ? String(rawId) : null;
    const serialised = JSON.stringify(obj);
    if (bytes(serialised) > PG.LIMITS.mtopBytes) return null;
    return { id, data: JSON.parse(serialised) };
  }

  /**
   * A captured page-data answer (results lists, Shopee's product JSON) as a plain object,
   * or null. Untrusted text from the page's world: size-checked and parsed (JSONP allowed);
   * the background checks it again.
   */
  function parseCaptured(text) {
    if (typeof text !== "string" || text.length > PG.LIMITS.mtopText) return null;
    let body = text.trim();
    const jsonp = /^[\w$.]{1,64}\(([\s\S]*)\);?$/.exec(body);
    if (jsonp) body = jsonp[1];
    let obj;
    try {
      obj = JSON.parse(body);
    } catch {
      return null;
    }
    if (!obj || typeof obj !== "object" || Array.isArray(obj)) return null;
    const serialised = JSON.stringify(obj);
    return bytes(serialised) > PG.LIMITS.mtopBytes ? null : { json: obj, bytes: bytes(serialised) };
  }

  /** Links on the page to item pages of the same marketplace (deduplicated, in order). */
  function itemLinks() {
    const seen = new Set();
    for (const a of document.links) {
      const href = a.href;
      if (!href || href.length > PG.LIMITS.urlChars || seen.has(href)) continue;
      const what = PG.classify(href);
      if (what && what.kind === "item") seen.add(href);
      if (seen.size >= PG.LIMITS.urls) break;
    }
    return [...seen];
  }

  /** Image URLs shown on the page (http(s), deduplicated, at most LIMITS.urls). */
  function imageUrls() {
    const seen = new Set();
    for (const img of document.images) {
      for (const value of [img.currentSrc, img.getAttribute("src"), img.getAttribute("data-src")]) {
        if (!value) continue;
        let url;
        try {
          url = new URL(value, location.href);
        } catch {
          continue;
        }
        if ((url.protocol === "http:" || url.protocol === "https:")
            && url.href.length <= PG.LIMITS.urlChars) seen.add(url.href);
        if (seen.size >= PG.LIMITS.urls) return [...seen];
      }
    }
    return [...seen];
  }

  Object.assign(PG, { pageHtml, parseMtop, parseCaptured, itemLinks, imageUrls });
})();
