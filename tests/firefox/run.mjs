// Drives Debian's firefox-esr with the unpacked PicGuard extension over WebDriver BiDi
// (npm puppeteer-core; no browser download). Called by tests/test_extension_firefox.py.
//
// Input: one JSON object in argv[2]: {extension, daemonUrl, token, pageUrl, uuid, timeoutS}.
// Every host resolves to 127.0.0.1 (network.dns.forceResolve), so the page address names
// the marketplace (its content scripts match) while a local server answers it.
// Output: one JSON line per step on stdout: {"step": ..., ...}; exit 0 when the page on
// screen shows PicGuard's marks, 1 otherwise.
import puppeteer from "puppeteer-core";

const cfg = JSON.parse(process.argv[2]);
const started = Date.now();
// `t`: seconds since start, so a slow step shows in the test's failure message.
const say = (step, extra = {}) => console.log(JSON.stringify({
  step, t: Math.round((Date.now() - started) / 100) / 10, ...extra }));
const deadline = started + (cfg.timeoutS ?? 120) * 1000;

/** Poll `check` until it returns something truthy, up to `withinMs` or the run's deadline. */
async function until(what, check, everyMs = 500, withinMs = Infinity) {
  const end = Math.min(deadline, Date.now() + withinMs);
  while (Date.now() < end) {
    try {
      const value = await check();
      if (value) return value;
    } catch { /* retried until the deadline */ }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath: cfg.firefox ?? "/usr/bin/firefox-esr",
  headless: true,
  // A BiDi command that never answers fails after a minute instead of puppeteer's default
  // 180 s, which alone would eat the whole deadline without saying where.
  protocolTimeout: 60000,
  // Firefox 153+ lets WebDriver open moz-extension:// pages only with system access.
  args: ["--remote-allow-system-access"],
  extraPrefsFirefox: {
    "xpinstall.signatures.required": false,
    // A fixed internal UUID, so the test knows the options page's address.
    "extensions.webextensions.uuids": JSON.stringify({ "picguard@picguard.local": cfg.uuid }),
    "network.dns.forceResolve": "127.0.0.1",
    "network.dns.disableIPv6": true,
    "network.proxy.type": 0,
    "dom.security.https_first": false,
    "dom.security.https_only_mode": false,
    "browser.shell.checkDefaultBrowser": false,
  },
});
let ok = false;
try {
  const id = await browser.installExtension(cfg.extension);
  say("installed", { id });
  const base = `moz-extension://${cfg.uuid}`;

  // Opens one of the extension's pages and waits for its own ready marker. The navigation is
  // started, never awaited: over BiDi, Firefox reports a moz-extension:// load as a failed
  // navigation followed by a second one (the load moves to the extension's process), never
  // with a `load` event, and sometimes without the second one's start. Then
  // `browsingContext.navigate` never answers (2 of 6 fresh launches, twice), and puppeteer's
  // goto, once it has seen the navigation fail, waits for that command until protocolTimeout
  // whatever its own `timeout` says: issue 14's flake, 180 s gone before the marketplace
  // page was even opened. puppeteer's page.url() stays about:blank then too, so the address
  // is read in the page itself.
  const extensionPage = async (path, readySelector) => {
    const page = await browser.newPage();
    const url = `${base}/${path}`;
    let navigation = "pending";
    page.goto(url).then(() => { navigation = "loaded"; },
      (error) => { navigation = String(error?.message ?? error); });
    try {
      await until(`${path} to show ${readySelector}`, () => page.evaluate(
        (want, selector) => location.href === want && document.querySelector(selector) !== null,
        url, readySelector), 250, 30000);
    } catch (error) {
      throw new Error(`${error.message} (navigation: ${navigation})`);
    }
    return page;
  };
  const options = await extensionPage("options/options.html", "body[data-ready=true]");
  await options.$eval("#daemon-url", (el, v) => { el.value = v; }, cfg.daemonUrl);
  await options.$eval("#token", (el, v) => { el.value = v; }, cfg.token);
  await options.click("#save");
  await options.waitForSelector("#result[data-state=connected]", { timeout: 20000 });
  say("paired", { result: await options.$eval("#result", (el) => el.textContent) });

  const page = await browser.newPage();
  await page.goto(cfg.pageUrl, { waitUntil: "load" });
  say("opened", { url: page.url() });
  // The seller's photos on this page get PicGuard's overlay once the daemon has matched them.
  await until("PicGuard's marks on the page", () =>
    page.evaluate(() => document.querySelectorAll("picguard-overlay").length > 0));
  say("marked");

  const popup = await extensionPage("popup/popup.html", "body[data-loaded=true]");
  const state = await popup.$eval("#state", (el) => el.textContent);
  const alerts = await until("alerts in the popup", () =>
    popup.$$eval("#alerts li", (items) => items.length), 1000);
  say("popup", { state, alerts });
  ok = state.length > 0 && alerts > 0;
} catch (error) {
  say("error", { message: String(error?.message ?? error) });
} finally {
  await browser.close();
}
process.exit(ok ? 0 : 1);
