// Alerts: filters, a selectable list with bulk actions, and one alert with its evidence.
import { api, apiBlob } from "../api.js";
import { fmtTime, lang, t } from "../i18n.js";
import { apiImage, ask, button, download, el, errorText, heading, kindBadge, pager,
         stateBadge, toast } from "../ui.js";

const LIMIT = 25;
const filters = { state: "new", kind: "", marketplace: "", store: "", channel: "", offset: 0 };

function select(name, label, options, rerender) {
  return el("div", { class: "field" },
    el("label", { for: `f-${name}` }, label),
    el("select", { id: `f-${name}`, name, onchange: (e) => {
      filters[name] = e.target.value;
      filters.offset = 0;
      rerender().then(() => document.getElementById(`f-${name}`)?.focus());
    } }, options.map(([value, text]) => el("option", { value, selected: filters[name] === value },
                                            text))));
}

function thumb(src, alt) {
  return src ? el("img", { src, alt, class: "thumb", width: 72, height: 72 })
    : el("span", { class: "thumb missing", role: "img", "aria-label": alt }, "?");
}

async function act(ids, action, rerender) {
  try {
    const result = await api("alerts/bulk", { method: "POST", body: { ids, action } });
    toast(t("done_action", { n: result.changed.length, action: t(`action_${action}`) }));
    await rerender();
  } catch (error) {
    toast(errorText(error), "bad");
  }
}

export async function alertsPage(rerender) {
  const query = new URLSearchParams({ state: filters.state, offset: filters.offset,
                                      limit: LIMIT, thumbs: "1" });
  for (const name of ["kind", "marketplace", "store", "channel"]) {
    if (filters[name]) query.set(name, filters[name]);
  }
  const [data, facets] = await Promise.all([api(`alerts/search?${query}`), api("alerts/facets")]);
  const selected = new Set();
  const count = el("span", { class: "muted", role: "status" }, t("selected_n", { n: 0 }));
  const bulkButtons = ["confirm", "dismiss", "not_mine"].map((action) =>
    button(t(`bulk_${action}`), () => selected.size && act([...selected], action, rerender),
           { class: "btn", disabled: true }));
  const refresh = () => {
    count.textContent = t("selected_n", { n: selected.size });
    for (const b of bulkButtons) b.disabled = selected.size === 0;
  };
  const boxes = [];
  const rows = data.alerts.map((a) => {
    const box = el("input", { type: "checkbox", "aria-label": t("select_alert", { id: a.id }),
                              onchange: (e) => { e.target.checked ? selected.add(a.id)
                                : selected.delete(a.id); refresh(); } });
    boxes.push(box);
    const store = a.other.store_name || a.other.store_id || t("unknown_store");
    return el("li", { class: `alert-row kind-${a.kind}` },
      box,
      el("div", { class: "pair" }, apiImage(`catalog/${a.own.photo_id}/thumb`, t("your_photo"),
                                            { class: "thumb", width: 64, height: 64 }),
         el("span", { "aria-hidden": "true" }, "→"), thumb(a.other.thumb, t("their_image"))),
      el("div", { class: "grow" },
        el("p", {}, kindBadge(a.kind), " ", stateBadge(a.state), " ",
           el("a", { href: `#/alerts/${a.id}`, class: "strong" },
              t("alert_link", { id: a.id, store }))),
        el("p", { class: "muted small" },
           `${a.own.file_name} · ${a.other.marketplace || ""} · ${t("first_seen")}: `
           + fmtTime(a.other.first_seen) + (a.channel ? ` · ${t(`channel_${a.channel}`)}` : ""))));
  });
  const all = el("input", { type: "checkbox", id: "select-all", onchange: (e) => {
    for (const [i, box] of boxes.entries()) {
      box.checked = e.target.checked;
      e.target.checked ? selected.add(data.alerts[i].id) : selected.delete(data.alerts[i].id);
    }
    refresh();
  } });
  const kinds = facets.kinds || {};
  return [
    heading(t("alerts_title")),
    el("p", { class: "lead" }, t("alerts_lead")),
    el("section", { class: "card filters", "aria-label": t("filters") },
      select("state", t("filter_state"), ["new", "confirmed", "dismissed", "withdrawn", "all"]
        .map((s) => [s, `${t(`state_${s}`)}${data.counts[s] != null ? ` (${data.counts[s]})` : ""}`]),
        rerender),
      select("kind", t("filter_kind"), [["", t("any")], ...["copied", "resembles", "unclear"]
        .map((k) => [k, `${t(`kind_${k}`)} (${kinds[k] || 0})`])], rerender),
      select("marketplace", t("filter_marketplace"), [["", t("any")],
        ...facets.marketplaces.map((m) => [m, m])], rerender),
      select("store", t("filter_store"), [["", t("any")],
        ...facets.stores.map((s) => [s.store_key, `${s.name || s.store_key} (${s.n})`])], rerender),
      select("channel", t("filter_channel"), [["", t("any")],
        ...facets.channels.map((c) => [c, t(`channel_${c}`)])], rerender)),
    el("div", { class: "row bulk" },
      el("label", { for: "select-all", class: "check" }, all, t("select_page")),
      count, ...bulkButtons),
    data.alerts.length ? el("ul", { class: "alerts" }, rows)
      : el("p", { class: "empty card" }, t("no_alerts")),
    pager(data.offset, data.limit, data.total, async (offset) => {
      filters.offset = offset;
      await rerender();
    }),
  ];
}

function factRows(verdict, alert) {
  const facts = verdict?.facts?.length ? verdict.facts : [
    { side: "own", source: "registration", time: alert.own.registered_at },
    ...(alert.own.taken_at ? [{ side: "own", source: "capture", time: alert.own.taken_at }] : []),
    { side: "other", source: "first_seen", time: alert.other.first_seen }];
  return facts.map((f) => el("tr", { class: `side-${f.side}` },
    el("td", {}, fmtTime(f.time)),
    el("td", {}, t(f.side === "own" ? "side_own" : "side_other")),
    el("td", {}, t(`fact_${f.source}`))));
}

async function evidencePack(alert) {
  const get = (gps) => apiBlob(`alerts/${alert.id}/evidence?lang=${lang()}${gps ? "&include_gps=1" : ""}`);
  try {
    let blob;
    try {
      toast(t("pack_building"));
      blob = await get(false);
    } catch (error) {
      if (error.code !== "gps_consent") throw error;
      const ok = await ask(t("gps_title"), `${t("gps_text")} ${error.message}`,
                           t("gps_include"), t("gps_cancel"));
      if (!ok) { toast(t("pack_cancelled"), "warn"); return; }
      blob = await get(true);
    }
    download(blob, `picguard-evidence-${alert.id}.zip`);
    toast(t("pack_ready"));
  } catch (error) {
    toast(errorText(error), "bad");
  }
}

export async function alertPage(id, rerender) {
  const alert = await api(`alerts/${id}`);
  const v = alert.verdict;
  const store = alert.other.store_name || alert.other.store_id || t("unknown_store");
  const doAction = async (action) => {
    if (action === "not_mine" && !await ask(t("not_mine_title"), t("not_mine_text"),
                                             t("action_not_mine"))) return;
    try {
      await api(`alerts/${id}`, { method: "POST", body: { action } });
      toast(t("done_action", { n: 1, action: t(`action_${action}`) }));
      await rerender();
    } catch (error) {
      toast(errorText(error), "bad");
    }
  };
  const picture = apiImage(`alerts/${id}/compare.png`, t("side_by_side_alt"),
                           { class: "compare", loading: "eager" });
  return [
    el("p", {}, el("a", { href: "#/alerts" }, t("back_to_alerts"))),
    heading(t("alert_title", { id, store })),
    alert.withdrawn ? el("section", { class: "card withdrawn", role: "status",
                                      "aria-labelledby": "withdrawn-h" },
      el("h2", { id: "withdrawn-h" }, t("withdrawn_title")),
      // the reason in the seller's language, as the daemon words it (monitor.alerts)
      el("p", {}, alert.withdrawn[lang() === "zh" ? "zh" : "en"]),
      el("p", { class: "muted small" }, t("withdrawn_no_pack"))) : null,
    el("section", { class: `verdict kind-${alert.kind}`, "aria-labelledby": "verdict-h" },
      el("h2", { id: "verdict-h" }, kindBadge(alert.kind), " ", t(`verdict_${alert.kind}`)),
      el("p", {}, t(`verdict_${alert.kind}_text`)),
      el("p", { class: "muted small" }, t("margin_note", { hours: v?.margin_hours ?? 24 }))),
    el("div", { class: "row actions" },
      alert.withdrawn ? null  // what PicGuard took back is not confirmed (store.alerts)
        : button(t("action_confirm"), () => doAction("confirm"), { class: "btn primary" }),
      button(t("action_dismiss"), () => doAction("dismiss")),
      button(t("action_not_mine"), () => doAction("not_mine")),
      alert.withdrawn ? null
        : button(t("action_evidence"), () => evidencePack(alert), { class: "btn accent" }),
      stateBadge(alert.state)),
    el("section", { class: "card" },
      el("h2", {}, t("side_by_side")),
      el("p", { class: "muted small" }, t("side_by_side_note")),
      el("figure", {}, picture)),
    el("div", { class: "grid2" },
      el("section", { class: "card" },
        el("h2", {}, t("times_title")),
        el("table", {}, el("caption", { class: "visually-hidden" }, t("times_title")),
          el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("time")),
             el("th", { scope: "col" }, t("side")), el("th", { scope: "col" }, t("fact")))),
          el("tbody", {}, factRows(v, alert)))),
      el("section", { class: "card" },
        el("h2", {}, t("details")),
        el("dl", { class: "facts" },
          el("dt", {}, t("your_photo")), el("dd", {}, alert.own.file_name),
          el("dt", {}, t("shoot")), el("dd", {}, alert.own.shoot || t("none")),
          el("dt", {}, "SHA-256"), el("dd", { class: "mono" }, alert.own.sha256),
          el("dt", {}, t("other_store")), el("dd", {}, `${store} (${alert.other.marketplace || "?"})`),
          el("dt", {}, t("their_listing")), el("dd", {}, alert.other.listing_url
            ? el("a", { href: alert.other.listing_url, rel: "noreferrer noopener", target: "_blank" },
                 alert.other.title || alert.other.listing_url) : t("none")),
          el("dt", {}, t("match")), el("dd", {}, `${t(`match_${alert.match_kind}`)} · ${alert.score}`),
          el("dt", {}, t("found_by")), el("dd", {}, alert.channel ? t(`channel_${alert.channel}`) : t("none"))))),
  ];
}
