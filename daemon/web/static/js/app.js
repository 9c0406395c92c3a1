// The dashboard shell: language, pairing, navigation and the hash router (#/alerts/12 ...).
import { api, setToken, takeTokenFromFragment, token } from "./api.js";
import { LANGS, defaultLang, lang, loadLang, setLang, t } from "./i18n.js";
import { button, el, errorText, heading } from "./ui.js";
import { alertsPage, alertPage } from "./pages/alerts.js";
import { catalogPage } from "./pages/catalog.js";
import { checkPage } from "./pages/check.js";
import { monitoringPage } from "./pages/monitoring.js";
import { settingsPage } from "./pages/settings.js";
import { proofPage } from "./pages/proof.js";

const PAGES = [
  ["alerts", "nav_alerts", alertsPage],
  ["catalog", "nav_catalog", catalogPage],
  ["check", "nav_check", checkPage],
  ["monitoring", "nav_monitoring", monitoringPage],
  ["settings", "nav_settings", settingsPage],
  ["proof", "nav_proof", proofPage],
];
const main = () => document.getElementById("main");

function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  const page = parts[0] || "alerts";
  const id = parts[1] ? Number(parts[1]) : null;
  return { page, id, key: id ? `${page}/${id}` : page };
}

function renderShell() {
  document.title = t("app_title");
  const { page } = route();
  const select = el("select", { id: "lang-select", onchange: async (e) => {
    await setLang(e.target.value);
    renderShell();
    await render();
  } }, LANGS.map((l) => el("option", { value: l, selected: l === lang() }, t(`lang_${l}`))));
  document.getElementById("top").replaceChildren(
    el("a", { class: "skip", href: "#main", onclick: (e) => { e.preventDefault(); main().focus(); } },
       t("skip")),
    el("div", { class: "brand" }, el("span", { class: "logo", "aria-hidden": "true" }, "◆"),
       el("span", {}, "PicGuard"), el("small", {}, t("brand_sub"))),
    el("nav", { "aria-label": t("nav_label") },
       el("ul", {}, PAGES.map(([name, key]) => el("li", {},
         el("a", { href: `#/${name}`, "aria-current": name === page ? "page" : null }, t(key)))))),
    el("div", { class: "lang" }, el("label", { for: "lang-select" }, t("language")), select),
  );
}

function pairingPage() {
  const input = el("input", { id: "pair-token", type: "password", autocomplete: "off",
                              size: 48, "aria-describedby": "pair-help" });
  const result = el("p", { role: "status" });
  const form = el("form", { class: "card", onsubmit: async (e) => {
    e.preventDefault();
    setToken(input.value.trim());
    try {
      await api("status");
      await start(); // the route asked for (e.g. #/alerts/12 from the extension) is kept
    } catch (error) {
      result.textContent = errorText(error);
    }
  } },
    el("label", { for: "pair-token" }, t("pair_label")),
    el("p", { id: "pair-help", class: "muted" }, t("pair_help")),
    el("div", { class: "row" }, input, el("button", { type: "submit", class: "btn primary" },
                                          t("pair_connect"))),
    result);
  return [heading(t("pair_title")), form];
}

// Renders overlap: an action's re-render can still wait for the API when the user moves to
// another page, and a slow one used to land last and put the old page back under the new
// address (#/alerts showing alert #2). So each render takes a number and only the latest one
// started may fill <main>; a page's own re-render (after an action, a filter, a timer) runs
// only while that page is still the one shown. The numbers live on <body>, the one place
// the shell keeps state: data-render-started, data-render-shown, and data-ready ("true"
// once the latest render is shown), with data-route naming what it shows (alerts/12).
async function render() {
  const body = document.body.dataset;
  const mine = Number(body.renderStarted || 0) + 1;
  body.renderStarted = String(mine);
  body.ready = "false";
  const { page, id, key } = route();
  const rerender = () => (route().key === key ? render() : Promise.resolve());
  const target = main();
  target.setAttribute("aria-busy", "true");
  target.replaceChildren(el("p", { class: "muted" }, t("loading")));
  let content;
  try {
    if (!token()) content = pairingPage();
    else if (page === "alerts" && id) content = await alertPage(id, rerender);
    else {
      const found = PAGES.find(([name]) => name === page) || PAGES[0];
      content = await found[2](rerender);
    }
  } catch (error) {
    content = error.status === 401 ? pairingPage()
      : [heading(t("error")), el("p", { class: "error" }, errorText(error)),
         button(t("retry"), () => render())];
  }
  if (Number(body.renderStarted) !== mine) return; // a newer render owns <main> now
  target.replaceChildren(...[content].flat());
  target.removeAttribute("aria-busy");
  body.page = page;
  body.route = key;
  body.renderShown = String(mine);
  body.ready = "true";
  const title = target.querySelector("h1");
  document.title = `${title ? title.textContent + " · " : ""}${t("app_title")}`;
}

async function start() {
  renderShell();
  await render();
}

window.addEventListener("hashchange", async () => {
  if (/token=/.test(location.hash)) takeTokenFromFragment();
  renderShell();
  await render();
  main().querySelector("h1")?.focus();
});

takeTokenFromFragment();
await loadLang("en");
await loadLang(defaultLang());
await start();
