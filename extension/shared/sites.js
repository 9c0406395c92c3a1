// The marketplaces PicGuard knows: their hosts (as match patterns for the permissions and
// the content scripts) and which addresses are item, store and results pages.
// One file for both sides: content scripts load it as a classic script, the background
// imports it as a module for its side effect; either way it defines the frozen
// `globalThis.PicGuardSites` and nothing else.
globalThis.PicGuardSites = globalThis.PicGuardSites || (() => {
  "use strict";
  // [marketplace id, registrable domains, default (granted at install)?]
  const DOMAINS = [
    ["aliexpress", ["aliexpress.com", "aliexpress.us", "aliexpress.ru"], true],
    ["amazon", ["amazon.com", "amazon.ca", "amazon.com.mx", "amazon.com.br", "amazon.co.uk",
      "amazon.de", "amazon.fr", "amazon.it", "amazon.es", "amazon.nl", "amazon.se",
      "amazon.pl", "amazon.com.be", "amazon.com.tr", "amazon.ae", "amazon.sa", "amazon.eg",
      "amazon.in", "amazon.co.jp", "amazon.sg", "amazon.com.au"], false],
    ["ebay", ["ebay.com", "ebay.ca", "ebay.co.uk", "ebay.de", "ebay.fr", "ebay.it", "ebay.es",
      "ebay.at", "ebay.ch", "ebay.ie", "ebay.nl", "ebay.be", "ebay.pl", "ebay.com.au",
      "ebay.com.hk", "ebay.com.sg", "ebay.com.my", "ebay.ph"], false],
    ["etsy", ["etsy.com"], false],
    ["walmart", ["walmart.com", "walmart.ca", "walmart.com.mx"], false],
    ["mercadolibre", ["mercadolibre.com.ar", "mercadolibre.com.mx", "mercadolibre.com.co",
      "mercadolibre.cl", "mercadolibre.com.pe", "mercadolibre.com.uy", "mercadolibre.com.ve",
      "mercadolibre.com.ec", "mercadolibre.com.bo", "mercadolibre.com.py",
      "mercadolibre.com.do", "mercadolibre.com.cr", "mercadolibre.com.gt",
      "mercadolibre.com.pa", "mercadolibre.com.ni", "mercadolibre.com.hn",
      "mercadolibre.com.sv", "mercadolivre.com.br"], false],
    ["lazada", ["lazada.com.my", "lazada.sg", "lazada.co.th", "lazada.com.ph", "lazada.co.id",
      "lazada.vn"], false],
    ["taobao", ["taobao.com", "tmall.com", "tmall.hk"], false],
    ["temu", ["temu.com"], false],
    ["shopee", ["shopee.sg", "shopee.com.my", "shopee.co.th", "shopee.ph", "shopee.vn",
      "shopee.co.id", "shopee.tw", "shopee.com.br", "shopee.com.mx", "shopee.com.co",
      "shopee.cl"], false],
  ];

  // Per marketplace: [kind, path (and query) test] in order; the first that matches wins.
  // `id` is the first capture group. Results pages come before store pages: a store's
  // product list is a results page.
  const q = (name) => (url) => url.searchParams.has(name);
  const PAGES = {
    aliexpress: [
      ["item", /\/(?:item|i)\/(?:[^/?#]*\/)?(\d{6,20})\.html?/i],
      ["results", /^\/w\/wholesale-[^/]*\.html/i],
      ["results", /^\/(?:af\/[^/]*\.html|wholesale\/?$)/i],
      ["results", /^\/category\/(\d+)\//i],
      ["results", /^\/store\/(\d+)\/pages\/all-items\.html/i],
      ["results", /^\/store\/all-wholesale-products\/(\d+)\.html/i],
      ["results", /^\/store\/(\d+)\/search/i],
      ["store", /\/store\/(?:[^/?#]+\/)*?(\d{3,20})(?=[._/?#]|$)/i],
    ],
    amazon: [
      ["item", /\/(?:dp|gp\/product|gp\/aw\/d)\/([A-Z0-9]{10})(?=[/?#]|$)/],
      ["results", /^\/s\/?$/, q("k")],
      ["store", /^\/stores\/(?:[^/]+\/)?page\/([A-F0-9-]{20,})/i],
    ],
    ebay: [
      ["item", /^\/itm\/(?:[^/]+\/)?(\d{9,15})(?=[/?#]|$)/],
      ["results", /^\/sch\//],
      ["store", /^\/(?:str|usr)\/([^/?#]+)/],
    ],
    etsy: [
      ["item", /^\/(?:[a-z]{2}(?:-[a-z]{2})?\/)?listing\/(\d{5,15})/i],
      ["results", /^\/(?:[a-z]{2}(?:-[a-z]{2})?\/)?(?:search|c\/)/i],
      ["store", /^\/(?:[a-z]{2}(?:-[a-z]{2})?\/)?shop\/([A-Za-z0-9]+)/i],
    ],
    walmart: [
      ["item", /^\/(?:[a-z]{2}\/)?ip\/(?:[^/]+\/)?(\d{5,15})(?=[/?#]|$)/i],
      ["results", /^\/(?:[a-z]{2}\/)?(?:search|browse)\b/i],
      ["store", /^\/(?:[a-z]{2}\/)?seller\/(\d+)/i],
    ],
    mercadolibre: [
      // Site ids: MLA (Argentina), MLB (Brazil), MLM (Mexico), MCO (Colombia), MPE...
      ["item", /\/(M[A-Z]{2}-?\d{6,15})(?=[-_/?#]|$)/],
      ["item", /\/p\/(M[A-Z]{2}\d{6,15})/],
      ["results", /^\/(?!p\/)[^/?#]+(?:\/|$)/, (url) => url.hostname.startsWith("listado.")],
    ],
    lazada: [
      ["item", /-i(\d{5,15})(?:-s\d+)?\.html/i],
      ["results", /^\/(?:catalog|tag)\//i],
      ["store", /^\/shop\/([^/?#]+)/i],
    ],
    taobao: [
      ["item", /^\/item\.htm/, (url) => /^\d{6,20}$/.test(url.searchParams.get("id") ?? "")],
      ["results", /^\/(?:search|list)\b/i],
      ["store", /^\/(?:shop\/view_shop\.htm|category\.htm|search\.htm)/i,
        (url) => /^(?:shop\d+|[\w-]+)\.(?:taobao|tmall)\.com$/i.test(url.hostname)],
    ],
    temu: [
      ["item", /-g-(\d{6,20})\.html/i],
      ["results", /^\/(?:[a-z]{2}(?:-[a-z]{2})?\/)?search_result\.html/i],
      ["store", /-m-(\d{6,20})\.html/i],
    ],
    shopee: [
      ["item", /-i\.(\d+\.\d{4,20})(?=[/?#]|$)/],
      ["item", /^\/product\/(\d+\/\d{4,20})/],
      ["results", /^\/search\/?$/],
      ["store", /^\/shop\/(\d+)/],
    ],
  };

  // The page-data answers each marketplace's own scripts fetch, captured in the MAIN world
  // and pushed with the page (AliExpress: the item's mtop answer and the results lists
  // that arrive by scrolling or paging; Shopee: the product JSON of its empty shell).
  const CAPTURE = {
    aliexpress: [/mtop\.aliexpress\.pdp\.pc\.query/i, /\/fn\/search-pc\/index/i,
      /mtop\.aliexpress\.(?:[a-z.]*search[a-z.]*|store\.[a-z.]*(?:list|items?)[a-z.]*)/i],
    shopee: [/\/api\/v4\/pdp\/get_pc\b/i, /\/api\/v4\/item\/get\b/i,
      /\/api\/v4\/search\/search_items\b/i],
  };

  const hostRe = (domains) => new RegExp(`(^|\\.)(?:${domains.map((d) => d.replace(/\./g,
    "\\.")).join("|")})$`, "i");
  const SITES = DOMAINS.map(([id, domains, builtIn]) => Object.freeze({
    id,
    builtIn,
    domains: Object.freeze([...domains]),
    patterns: Object.freeze(domains.map((d) => `*://*.${d}/*`)),
    host: hostRe(domains),
    capture: Object.freeze(CAPTURE[id] ?? []),
  }));

  function parse(href) {
    if (typeof href !== "string" || href.length > 8192) return null;
    try {
      const url = new URL(href);
      return url.protocol === "http:" || url.protocol === "https:" ? url : null;
    } catch {
      return null;
    }
  }

  /** The marketplace an address belongs to (its SITES entry), or null. */
  function siteOf(href) {
    const url = parse(href);
    return url ? SITES.find((site) => site.host.test(url.hostname)) ?? null : null;
  }

  /**
   * What an address shows: {site, kind: "item"|"store"|"results", id, key} or null for
   * pages PicGuard leaves alone (home, cart, account...). Results pages key on the whole
   * address: the next page of a search is another page.
   */
  function classify(href) {
    const url = parse(href);
    const site = url && siteOf(href);
    if (!site) return null;
    for (const [kind, pathRe, extra] of PAGES[site.id]) {
      const match = pathRe.exec(url.pathname);
      if (!match || (extra && !extra(url))) continue;
      if (kind === "results") {
        const where = `${url.origin}${url.pathname}${url.search}`;
        return { site: site.id, kind, id: match[1] ?? null, key: `results:${where}` };
      }
      const id = match[1] ?? url.searchParams.get("id");
      return { site: site.id, kind, id, key: `${site.id}:${kind}:${id}` };
    }
    return null;
  }

  /** Is `url` (a request the page made) one of the page-data answers captured on `site`? */
  function isCapture(siteId, url) {
    const site = SITES.find((s) => s.id === siteId);
    return Boolean(site && typeof url === "string" && site.capture.some((re) => re.test(url)));
  }

  return Object.freeze({ SITES: Object.freeze(SITES), siteOf, classify, isCapture });
})();
