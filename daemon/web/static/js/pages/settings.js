// Settings: own stores, notification channels with a test, language, token, data dir.
import { api, setToken } from "../api.js";
import { LANGS, lang, setLang, t } from "../i18n.js";
import { ask, button, el, errorText, heading, toast } from "../ui.js";

function listEditor({ id, items, label, placeholder, addLabel, removeLabel, onSave, extra }) {
  const values = [...items];
  const list = el("ul", { class: "plain" });
  const input = el("input", { id, type: "text", size: 40, placeholder, autocomplete: "off" });
  const draw = () => list.replaceChildren(...values.map((v, i) => el("li", { class: "row" },
    el("code", {}, v),
    button(t("remove"), async () => {
      values.splice(i, 1);
      await onSave(values);
    }, { class: "btn small danger", "aria-label": `${t("remove")}: ${v}` }))));
  draw();
  const form = el("form", { class: "row wrap", onsubmit: async (e) => {
    e.preventDefault();
    const value = (extra ? extra() : "") + input.value.trim();
    if (!input.value.trim()) return;
    values.push(value);
    await onSave(values);
  } }, el("div", { class: "field grow" }, el("label", { for: id }, label), input),
     el("button", { type: "submit", class: "btn" }, addLabel));
  return { list, form };
}

export async function settingsPage(rerender) {
  const s = await api("settings");
  const save = (key) => async (values) => {
    try {
      await api("settings", { method: "POST", body: { [key]: values } });
      toast(t("saved"));
      await rerender();
    } catch (error) { toast(errorText(error), "bad"); }
  };
  const market = el("select", { id: "store-market", "aria-label": t("marketplace") },
                    s.marketplaces.map((m) => el("option", { value: m }, m)));
  const stores = listEditor({ id: "store-id", items: s.own_stores, label: t("store_id"),
    placeholder: "1102011", addLabel: t("add_store"), onSave: save("own_stores"),
    extra: () => `${market.value}:` });
  stores.form.prepend(el("div", { class: "field" }, el("label", { for: "store-market" }, t("marketplace")), market));
  market.removeAttribute("aria-label");
  const urls = listEditor({ id: "notify-url", items: s.notify_urls, label: t("notify_url"),
    placeholder: "mailto://user:pass@example.com", addLabel: t("add_channel"),
    onSave: save("notify_urls") });
  const testResult = el("p", { role: "status", id: "notify-result" });
  const test = button(t("send_test"), async () => {
    test.disabled = true;
    testResult.className = "muted";
    testResult.textContent = t("sending");
    try {
      const r = await api("settings/notify-test", { method: "POST", body: {} });
      testResult.className = r.ok ? "ok" : "error";
      testResult.textContent = r.ok ? t("test_ok", { n: r.channels }) : t("test_failed", { error: r.error });
    } catch (error) {
      testResult.className = "error";
      testResult.textContent = errorText(error);
    } finally { test.disabled = false; }
  }, { class: "btn primary", disabled: !s.notify_urls.length });
  const tokenOut = el("p", { role: "status" });
  const rotate = button(t("rotate_token"), async () => {
    if (!await ask(t("rotate_title"), t("rotate_text"), t("rotate_token"))) return;
    try {
      const r = await api("token/rotate", { method: "POST", body: { confirm: true } });
      setToken(r.token);
      tokenOut.replaceChildren(t("rotated"), " ", el("code", { class: "mono" }, r.token));
    } catch (error) { tokenOut.textContent = errorText(error); }
  }, { class: "btn danger" });
  const langSelect = el("select", { id: "settings-lang", onchange: async (e) => {
    await setLang(e.target.value);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } }, LANGS.map((l) => el("option", { value: l, selected: l === lang() }, t(`lang_${l}`))));
  return [
    heading(t("settings_title")),
    el("section", { class: "card", "aria-labelledby": "stores-h" },
      el("h2", { id: "stores-h" }, t("own_stores")),
      el("p", { class: "muted small" }, t("own_stores_help")),
      stores.list.childElementCount ? stores.list : el("p", { class: "muted" }, t("no_stores")), stores.form),
    el("section", { class: "card", "aria-labelledby": "notify-h" },
      el("h2", { id: "notify-h" }, t("notifications")),
      el("p", { class: "muted small" }, t("notify_help")),
      urls.list.childElementCount ? urls.list : el("p", { class: "muted" }, t("no_channels")), urls.form,
      el("div", { class: "row" }, test), testResult),
    el("div", { class: "grid2" },
      el("section", { class: "card", "aria-labelledby": "lang-h" },
        el("h2", { id: "lang-h" }, t("language")),
        el("div", { class: "field" }, el("label", { for: "settings-lang" }, t("language")), langSelect)),
      el("section", { class: "card", "aria-labelledby": "token-h" },
        el("h2", { id: "token-h" }, t("pairing_token")),
        el("p", { class: "muted small" }, t("token_help")), rotate, tokenOut)),
    el("section", { class: "card", "aria-labelledby": "dir-h" },
      el("h2", { id: "dir-h" }, t("data_dir")),
      el("p", {}, el("code", { class: "mono" }, s.data_dir)),
      el("p", { class: "muted small" }, t("version"), " ", s.version)),
  ];
}
