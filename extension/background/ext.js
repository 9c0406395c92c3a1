// The WebExtension namespace: `browser` (Firefox, promise-based) or `chrome` (Chromium MV3,
// promise-based too). Everything else imports `ext` from here.
export const ext = globalThis.browser ?? globalThis.chrome;

export function t(key, substitutions) {
  return ext.i18n.getMessage(key, substitutions) || key;
}
