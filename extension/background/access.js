// Host access. Firefox lets the seller revoke host permissions at any time (and Chromium
// lets them restrict site access): detect it, show it, and let the popup or options page
// ask again (permissions.request must run in a user gesture on those pages).
import { ext } from "./ext.js";

export function requiredOrigins() {
  return [...(ext.runtime.getManifest().host_permissions ?? [])];
}

/** Which required origins are missing; empty when everything is granted. */
export async function missingOrigins() {
  const missing = [];
  for (const origin of requiredOrigins()) {
    try {
      if (!(await ext.permissions.contains({ origins: [origin] }))) missing.push(origin);
    } catch {
      missing.push(origin);
    }
  }
  return missing;
}
