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
const say = (step, extra = {}) => console.log(JSON.stringify({ step, ...extra }));
const deadline = Date.now() + (cfg.timeoutS ?? 120) * 1000;

async function until(what, check, everyMs = 500) {
  while (Date.now() < deadline) {
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

  const extensionPage = async (path) => {
    const page = await browser.newPage();
    // The navigation to an extension page never reports its load over BiDi (it does load):
    // go on once it committed and wait for the page's own ready marker instead.
    await page.goto(`${base}/${path}`, { timeout: 8000 }).catch(() => {});
    return page;
  };
  const options = await extensionPage("options/options.html");
  await options.waitForSelector("body[data-ready=true]", { timeout: 20000 });
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

  const popup = await extensionPage("popup/popup.html");
  await popup.waitForSelector("body[data-loaded=true]", { timeout: 20000 });
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
