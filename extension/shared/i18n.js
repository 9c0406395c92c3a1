// Localises the extension's own pages: every element with data-i18n gets its text from
// _locales (chrome.i18n), data-i18n-placeholder / data-i18n-title / data-i18n-aria-label
// the matching attribute. No user-facing string is written in the HTML itself.
export const ext = globalThis.browser ?? globalThis.chrome;

export function t(key, substitutions) {
  return ext.i18n.getMessage(key, substitutions) || key;
}

/**
 * The language the messages are shown in ("en", "zh-CN"), from the messages themselves:
 * the browser's reported UI language can differ from the bundle it picked.
 */
export function uiLanguage() {
  return ext.i18n.getMessage("languageTag") || ext.i18n.getUILanguage();
}

export function localize(root = document) {
  document.documentElement.lang = uiLanguage();
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const [attr, name] of [["i18nPlaceholder", "placeholder"], ["i18nTitle", "title"],
    ["i18nAriaLabel", "aria-label"]]) {
    for (const node of root.querySelectorAll(`[data-${name === "aria-label" ? "i18n-aria-label"
      : `i18n-${name}`}]`)) {
      node.setAttribute(name, t(node.dataset[attr]));
    }
  }
}

export function send(message) {
  return ext.runtime.sendMessage(message).catch(() => ({ ok: false, error: "no_background" }));
}

export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("data-") || key.startsWith("aria-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  node.append(...children);
  return node;
}

/** Ask again for host access the seller revoked (Firefox); must run in a click handler. */
export function requestAccess() {
  const origins = ext.runtime.getManifest().host_permissions ?? [];
  return ext.permissions.request({ origins });
}
