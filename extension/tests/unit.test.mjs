// Unit checks of the extension's plain modules, in node's own test runner (no browser):
// `node --test extension/tests/`. Run by tests/test_extension_unit.py.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const EXT = new URL("../", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("manifest.json", EXT), "utf8"));

// The WebExtension API, as little of it as the modules touch at import and validation time.
globalThis.chrome = {
  runtime: { id: "pgtestid", getURL: (p) => `chrome-extension://pgtestid/${p}`,
    getManifest: () => manifest },
  i18n: { getMessage: (k) => k },
};
await import("../shared/sites.js");
await import("../shared/md5.js");
const Sites = globalThis.PicGuardSites;
const { validate, Rejected } = await import("../background/validate.js");
const { imageResultsUrl, PUNISH_RE, uploadRequest } = await import("../background/ae-endpoints.js");

test("md5 matches node's for ASCII, CJK and block-boundary lengths", () => {
  for (const text of ["", "abc", "x".repeat(55), "x".repeat(56), "y".repeat(64), "y".repeat(119),
    "令牌&1700000000000&24815441&{\"appId\":21738}", "z".repeat(70000)]) {
    assert.equal(globalThis.PicGuardMd5(text), createHash("md5").update(text, "utf8").digest("hex"));
  }
});

test("every marketplace's item, results and store pages, in several locales", () => {
  const cases = {
    "https://www.aliexpress.com/item/1005006180026951.html": ["aliexpress", "item", "1005006180026951"],
    "https://he.aliexpress.com/item/32995535623.html?spm=a": ["aliexpress", "item", "32995535623"],
    "https://www.aliexpress.us/item/3256803382674519.html": ["aliexpress", "item", "3256803382674519"],
    "https://www.aliexpress.com/w/wholesale-summer-dress.html?SearchText=summer+dress": ["aliexpress", "results", null],
    "https://www.aliexpress.com/w/wholesale-.html?isNewImageSearch=y&filename=x.jpg": ["aliexpress", "results", null],
    "https://www.aliexpress.com/wholesale?SearchText=dress": ["aliexpress", "results", null],
    "https://aliexpress.ru/category/5090301/naushniki.html": ["aliexpress", "results", "5090301"],
    "https://www.aliexpress.com/store/1101537758/pages/all-items.html": ["aliexpress", "results", "1101537758"],
    "https://www.aliexpress.com/store/all-wholesale-products/1101537758.html": ["aliexpress", "results", "1101537758"],
    "https://www.aliexpress.com/store/1101537758": ["aliexpress", "store", "1101537758"],
    "https://www.amazon.com/Skullcandy-Earbuds/dp/B07QXV6N1B/ref=sr_1_1": ["amazon", "item", "B07QXV6N1B"],
    "https://www.amazon.co.uk/gp/product/B01N5IB20Q": ["amazon", "item", "B01N5IB20Q"],
    "https://www.amazon.de/s?k=kopfhoerer": ["amazon", "results", null],
    "https://www.ebay.com/itm/315012345678": ["ebay", "item", "315012345678"],
    "https://www.ebay.de/itm/Sofa-Wicker/123456789012?hash=x": ["ebay", "item", "123456789012"],
    "https://www.ebay.com/sch/i.html?_nkw=blu-ray": ["ebay", "results", null],
    "https://www.etsy.com/listing/1467250981/linen-summer-dress": ["etsy", "item", "1467250981"],
    "https://www.etsy.com/de/listing/1467250981/x": ["etsy", "item", "1467250981"],
    "https://www.etsy.com/shop/LinenShop": ["etsy", "store", "LinenShop"],
    "https://www.walmart.com/ip/Booster-Seat/123456789": ["walmart", "item", "123456789"],
    "https://www.walmart.com/search?q=seat": ["walmart", "results", null],
    "https://articulo.mercadolibre.com.co/MCO-1234567890-kit-_JM": ["mercadolibre", "item", "MCO-1234567890"],
    "https://www.mercadolivre.com.br/p/MLB12345678": ["mercadolibre", "item", "MLB12345678"],
    "https://listado.mercadolibre.com.mx/audifonos": ["mercadolibre", "results", null],
    "https://www.lazada.com.ph/products/iphone-i123456789-s987654321.html": ["lazada", "item", "123456789"],
    "https://www.lazada.sg/catalog/?q=diapers": ["lazada", "results", null],
    "https://item.taobao.com/item.htm?id=612345678901": ["taobao", "item", "612345678901"],
    "https://detail.tmall.com/item.htm?id=612345678901&skuId=1": ["taobao", "item", "612345678901"],
    "https://s.taobao.com/search?q=keyboard": ["taobao", "results", null],
    "https://www.temu.com/kr/some-product-g-601099512345678.html": ["temu", "item", "601099512345678"],
    "https://www.temu.com/search_result.html?search_key=x": ["temu", "results", null],
    "https://shopee.ph/Some-Product-i.123456.7890123456": ["shopee", "item", "123456.7890123456"],
    "https://shopee.co.id/product/123456/7890123456": ["shopee", "item", "123456/7890123456"],
    "https://shopee.sg/search?keyword=bag": ["shopee", "results", null],
  };
  for (const [url, [site, kind, id]] of Object.entries(cases)) {
    const what = Sites.classify(url);
    assert.ok(what, url);
    assert.deepEqual([what.site, what.kind, what.id], [site, kind, id], url);
  }
  for (const url of ["https://www.aliexpress.com/", "https://www.amazon.com/gp/cart/view.html",
    "https://evil.test/item/1005006180026951.html", "https://aliexpress.com.evil.test/item/1.html",
    "javascript:alert(1)", "https://www.etsy.com/cart", "not a url"]) {
    assert.equal(Sites.classify(url), null, url);
  }
});

test("the manifest names every site: AliExpress granted, the others optional", () => {
  const optional = Sites.SITES.filter((s) => !s.builtIn).flatMap((s) => s.patterns);
  assert.deepEqual(manifest.optional_host_permissions, optional);
  const builtIn = Sites.SITES.filter((s) => s.builtIn).flatMap((s) => s.patterns);
  assert.deepEqual(manifest.host_permissions.slice(1), builtIn);
  assert.deepEqual(manifest.content_scripts[0].matches, builtIn);
});

test("the page world captures what each site's content script keeps", () => {
  const source = readFileSync(new URL("content/main-world.js", EXT), "utf8");
  const block = /const CAPTURE_RES = \[([\s\S]*?)\];/.exec(source)[1];
  const pageWorld = [...block.matchAll(/\/((?:\\\/|[^/\n])+)\/i/g)].map((m) => m[1]);
  const sites = Sites.SITES.flatMap((s) => s.capture.map((re) => re.source));
  assert.deepEqual(new Set(pageWorld), new Set(sites));
  assert.ok(Sites.isCapture("shopee", "https://shopee.sg/api/v4/pdp/get_pc?item_id=1&shop_id=2"));
  assert.ok(Sites.isCapture("aliexpress", "https://www.aliexpress.com/fn/search-pc/index"));
  assert.ok(!Sites.isCapture("amazon", "https://www.amazon.com/api/v4/pdp/get_pc"));
});

const tab = (url) => ({ id: "pgtestid", url, tab: { id: 7 }, frameId: 0 });
const page = (url, extra = {}) => ({ type: "page", url, html: "<html></html>", ...extra });

test("captured page data: the tab's own marketplace only, as [{url, json}], capped", () => {
  const shopee = "https://shopee.ph/Some-Product-i.123456.7890123456";
  const api = "https://shopee.ph/api/v4/pdp/get_pc?item_id=7890123456";
  const ok = validate(page(shopee, { captured: [{ url: api, json: { data: { item: {} } } }] }),
    tab(shopee));
  assert.deepEqual(ok.page.captured, [{ url: api, json: { data: { item: {} } } }]);
  const refused = (captured) => assert.throws(() => validate(page(shopee, { captured }),
    tab(shopee)), (e) => e instanceof Rejected && e.code === "bad_captured");
  refused({});
  refused([{ url: "https://evil.test/api/v4/pdp/get_pc", json: {} }]);
  refused([{ url: "https://shopee.ph/api/v4/cart/add", json: {} }]);
  refused([{ url: api, json: [1] }]);
  refused([{ url: api, json: {}, extra: 1 }]);
  refused(Array(13).fill({ url: api, json: {} }));
});

test("who may send what: content scripts on known marketplaces only", () => {
  const etsy = "https://www.etsy.com/listing/1467250981/x";
  assert.equal(validate(page(etsy), tab(etsy)).kind, "content");
  assert.throws(() => validate(page("https://evil.test/listing/1"), tab("https://evil.test/x")),
    (e) => e.code === "bad_sender");
  assert.throws(() => validate({ type: "start-sweep", sweep: "image" }, tab(etsy)),
    (e) => e.code === "not_allowed");
  const own = { id: "pgtestid", url: "chrome-extension://pgtestid/popup/popup.html" };
  assert.deepEqual(validate({ type: "start-sweep", sweep: "image" }, own),
    { type: "start-sweep", kind: "page", sweep: "image" });
  assert.throws(() => validate({ type: "start-sweep", sweep: "everything" }, own),
    (e) => e.code === "bad_field");
  assert.deepEqual(validate({ type: "discovery-set", values: { keywords: [" dress ", "", "裙"] } },
    own).values, { keywords: ["dress", "裙"] });
  assert.throws(() => validate({ type: "discovery-set", values: { per_day: 1e9 } }, own),
    (e) => e.code === "unknown_field");
});

test("image-search endpoints: results address and block detection", () => {
  const url = new URL(imageResultsUrl("https://he.aliexpress.com", "OSS/a b.jpg", 42));
  assert.equal(url.pathname, "/w/wholesale-.html");
  assert.equal(url.searchParams.get("filename"), "OSS/a b.jpg");
  assert.equal(url.searchParams.get("isNewImageSearch"), "y");
  assert.equal(Sites.classify(url.href).kind, "results");
  assert.ok(PUNISH_RE.test("https://www.aliexpress.com/punish?x5secdata=abc"));
  assert.ok(!PUNISH_RE.test("https://www.aliexpress.com/w/wholesale-.html?filename=punisher.jpg"));
  assert.equal(uploadRequest("QUJD").jpegBase64, "QUJD");
});

test("alert kinds: copied, resembles and unclear keep their own words; unknown is unclear", async () => {
  const { cleanAlert } = await import("../background/alerts.js");
  const base = { id: 7, own: {}, other: {} };
  for (const kind of ["copied", "resembles", "unclear"]) {
    assert.equal(cleanAlert({ ...base, kind }).kind, kind);
  }
  assert.equal(cleanAlert({ ...base, kind: "first!" }).kind, "unclear");
  for (const lang of ["en", "zh_CN"]) {
    const messages = JSON.parse(readFileSync(new URL(`_locales/${lang}/messages.json`, EXT), "utf8"));
    for (const key of ["alertUnclear", "notifyUnclearTitle", "notifyUnclearBody"]) {
      assert.ok(messages[key]?.message, `${lang} has ${key}`);
    }
  }
});
