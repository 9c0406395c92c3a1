// Message catalogs (static/i18n/<lang>.json), the language switch and formatting.
const KEY = "picguard-lang";
export const LANGS = ["zh", "en"];
const catalogs = {};
let current = "en";

export function defaultLang() {
  const saved = localStorage.getItem(KEY);
  if (LANGS.includes(saved)) return saved;
  const wanted = navigator.languages?.length ? navigator.languages : [navigator.language];
  return wanted.some((l) => String(l).toLowerCase().startsWith("zh")) ? "zh" : "en";
}

export async function loadLang(lang) {
  if (!catalogs[lang]) {
    const response = await fetch(`/static/i18n/${lang}.json`, { cache: "no-cache" });
    catalogs[lang] = await response.json();
  }
  current = lang;
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  return catalogs[lang];
}

export function setLang(lang) {
  localStorage.setItem(KEY, lang);
  return loadLang(lang);
}

export const lang = () => current;

// t(name, {n: 3}) -> the current language's text with {n} filled in.
export function t(key, vars = {}) {
  const text = catalogs[current]?.[key] ?? catalogs.en?.[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

export function fmtTime(iso) {
  if (!iso) return t("none");
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(current === "zh" ? "zh-CN" : "en-GB",
                                 { dateStyle: "medium", timeStyle: "short" }).format(d);
}

export function fmtBytes(n) {
  if (n == null) return "";
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}
