// Marketplaces beyond AliExpress, each with the seller's consent: the options page asks for
// the site's host permission (in its click handler), then the background registers the
// content scripts for that site (persisted by the browser; checked again at every start).
// Revoking the permission unregisters them, and pushes from pages still open are refused.
import "../shared/sites.js";
import { ext } from "./ext.js";

export const Sites = globalThis.PicGuardSites;
const SCRIPT_PREFIX = "picguard-site-";
export const MAIN_SCRIPTS = ["content/main-world.js"];
export const ISOLATED_SCRIPTS = ["shared/sites.js", "content/common.js", "content/collect.js",
  "content/marks.js", "content/content.js"];

export function siteById(id) {
  return Sites.SITES.find((site) => site.id === id) ?? null;
}

/** The sites the seller may switch on (AliExpress is always on, from the manifest). */
export function optionalSites() {
  return Sites.SITES.filter((site) => !site.builtIn);
}

async function granted(site) {
  try {
    return await ext.permissions.contains({ origins: [...site.patterns] });
  } catch {
    return false;
  }
}

/** May PicGuard read this page? Built-in sites always, others only while granted. */
export async function siteAllowed(href) {
  const site = Sites.siteOf(href);
  if (!site) return false;
  return site.builtIn || granted(site);
}

function scriptsFor(site) {
  const common = { matches: [...site.patterns], runAt: "document_start", allFrames: false,
    persistAcrossSessions: true };
  return [
    { id: `${SCRIPT_PREFIX}${site.id}-main`, js: MAIN_SCRIPTS, world: "MAIN", ...common },
    { id: `${SCRIPT_PREFIX}${site.id}`, js: ISOLATED_SCRIPTS, ...common },
  ];
}

async function registeredIds() {
  try {
    const scripts = await ext.scripting.getRegisteredContentScripts();
    return new Set(scripts.map((s) => s.id).filter((id) => id.startsWith(SCRIPT_PREFIX)));
  } catch {
    return new Set();
  }
}

/**
 * Make the registered content scripts match the granted permissions: register those of
 * granted sites that are missing, unregister those of sites no longer granted. Runs at
 * start-up, on install and whenever a permission changes. Returns the enabled site ids.
 */
export async function syncSiteScripts() {
  const have = await registeredIds();
  const enabled = [];
  for (const site of optionalSites()) {
    const scripts = scriptsFor(site);
    const ids = scripts.map((s) => s.id);
    if (await granted(site)) {
      enabled.push(site.id);
      const missing = scripts.filter((s) => !have.has(s.id));
      if (missing.length) {
        // Firefox has no persistAcrossSessions (it persists anyway): retry without it.
        await ext.scripting.registerContentScripts(missing).catch(() =>
          ext.scripting.registerContentScripts(missing.map(({ persistAcrossSessions, ...s }) => s)));
      }
    } else if (ids.some((id) => have.has(id))) {
      await ext.scripting.unregisterContentScripts({ ids: ids.filter((id) => have.has(id)) })
        .catch(() => {});
    }
  }
  return enabled;
}

/** Each marketplace with its state, for the options page and the popup. */
export async function siteStates() {
  const have = await registeredIds();
  const states = [];
  for (const site of Sites.SITES) {
    const on = site.builtIn || await granted(site);
    states.push({ id: site.id, builtIn: site.builtIn, enabled: on,
      scripts: site.builtIn || have.has(`${SCRIPT_PREFIX}${site.id}`),
      domains: [...site.domains] });
  }
  return states;
}

/** Every match pattern of the enabled sites (for finding their tabs). */
export async function enabledPatterns() {
  const patterns = [];
  for (const site of Sites.SITES) {
    if (site.builtIn || await granted(site)) patterns.push(...site.patterns);
  }
  return patterns;
}
