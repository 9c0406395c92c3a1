// Catalog: the seller's originals by shoot; add by upload or folder; set shoot; remove.
import { api, upload } from "../api.js";
import { fmtBytes, fmtTime, t } from "../i18n.js";
import { apiImage, ask, button, dropZone, el, errorText, heading, pager, progressBar,
         toast } from "../ui.js";

const LIMIT = 30;
const view = { shoot: null, q: "", offset: 0 };

function uploadPanel(rerender) {
  const shoot = el("input", { id: "upload-shoot", type: "text", maxlength: 120,
                              autocomplete: "off" });
  const list = el("ul", { class: "uploads", "aria-live": "polite" });
  const zone = dropZone(t("add_photos"), async (files) => {
    if (!files.length) return;
    let added = 0;
    const overall = progressBar(t("upload_overall"));
    const overallText = el("span", {}, t("upload_progress", { done: 0, total: files.length }));
    list.replaceChildren(el("li", { class: "overall" }, overall, overallText));
    for (const [i, file] of files.entries()) {
      const bar = progressBar(t("upload_of", { name: file.name }));
      const status = el("span", { class: "muted" }, t("uploading"));
      list.append(el("li", {}, el("span", { class: "name" }, file.name), bar, status));
      try {
        const result = await upload("catalog/upload", file, { shoot: shoot.value.trim() },
                                    (p) => { bar.value = p; });
        bar.value = 1;
        status.textContent = t(`upload_${result.outcome}`);
        if (result.outcome === "added") added += 1;
      } catch (error) {
        status.textContent = errorText(error);
        status.className = "error";
      }
      overall.value = (i + 1) / files.length;
      overallText.textContent = t("upload_progress", { done: i + 1, total: files.length });
    }
    toast(t("upload_done", { n: added }));
    await rerender();
  });
  return el("section", { class: "card", "aria-labelledby": "add-h" },
    el("h2", { id: "add-h" }, t("add_title")),
    el("div", { class: "field" }, el("label", { for: "upload-shoot" }, t("shoot_for_new")), shoot),
    zone, list);
}

function folderPanel(rerender) {
  const path = el("input", { id: "folder-path", type: "text", size: 50, autocomplete: "off",
                             placeholder: "/home/me/Pictures/spring-2026" });
  const shoot = el("input", { id: "folder-shoot", type: "text", maxlength: 120 });
  const status = el("div", { role: "status" });
  const start = async () => {
    if (!path.value.trim()) { status.textContent = t("folder_needed"); return; }
    try {
      let job = await api("catalog/folder", { method: "POST",
        body: { path: path.value.trim(), shoot: shoot.value.trim() || null } });
      const bar = progressBar(t("folder_progress"));
      const text = el("span", {});
      status.replaceChildren(bar, text);
      while (job.state === "running") {
        bar.value = job.total ? job.done / job.total : 0;
        text.textContent = t("folder_counts", { done: job.done, total: job.total });
        await new Promise((r) => setTimeout(r, 400));
        job = await api(`catalog/jobs/${job.id}`);
      }
      bar.value = 1;
      text.textContent = job.state === "done"
        ? t("folder_done", { added: job.added, duplicates: job.duplicates, failed: job.failed.length })
        : errorText({ message: job.error });
      if (job.state === "done") { toast(t("upload_done", { n: job.added })); await rerender(); }
    } catch (error) {
      status.textContent = errorText(error);
    }
  };
  return el("section", { class: "card", "aria-labelledby": "folder-h" },
    el("h2", { id: "folder-h" }, t("folder_title")),
    el("p", { class: "muted small" }, t("folder_help")),
    el("div", { class: "row wrap" },
      el("div", { class: "field grow" }, el("label", { for: "folder-path" }, t("folder_path")), path),
      el("div", { class: "field" }, el("label", { for: "folder-shoot" }, t("shoot")), shoot),
      button(t("add_folder"), start, { class: "btn primary" })),
    status);
}

function foundCell(found) {
  if (!found?.length) return el("span", { class: "muted" }, t("found_nowhere"));
  return el("ul", { class: "found" }, found.slice(0, 4).map((f) => el("li", {},
    el("a", { href: `#/alerts/${f.alert_id}` }, `${f.store_name || f.store_key || "?"} (${f.marketplace || "?"})`))),
    found.length > 4 ? el("li", { class: "muted" }, t("and_more", { n: found.length - 4 })) : null);
}

export async function catalogPage(rerender) {
  const query = new URLSearchParams({ offset: view.offset, limit: LIMIT });
  if (view.shoot !== null) query.set("shoot", view.shoot);
  if (view.q) query.set("q", view.q);
  const data = await api(`catalog?${query}`);
  const selected = new Set();
  const count = el("span", { class: "muted", role: "status" }, t("selected_n", { n: 0 }));
  const shootName = el("input", { id: "set-shoot", type: "text", maxlength: 120 });
  const setShoot = button(t("set_shoot"), async () => {
    try {
      await api("catalog/shoot", { method: "POST",
        body: { ids: [...selected], shoot: shootName.value.trim() || null } });
      toast(t("shoot_set", { n: selected.size }));
      await rerender();
    } catch (error) { toast(errorText(error), "bad"); }
  }, { disabled: true });
  const remove = button(t("remove_from_catalog"), async () => {
    if (!await ask(t("remove_title"), t("remove_text", { n: selected.size }),
                   t("remove_from_catalog"))) return;
    try {
      const result = await api("catalog/remove", { method: "POST", body: { ids: [...selected] } });
      toast(t("removed_n", { n: result.removed.length }));
      await rerender();
    } catch (error) { toast(errorText(error), "bad"); }
  }, { class: "btn danger", disabled: true });
  const refresh = () => {
    count.textContent = t("selected_n", { n: selected.size });
    setShoot.disabled = remove.disabled = selected.size === 0;
  };
  const rows = data.photos.map((p) => el("tr", {},
    el("td", {}, el("input", { type: "checkbox", "aria-label": t("select_photo", { name: p.file_name }),
      onchange: (e) => { e.target.checked ? selected.add(p.id) : selected.delete(p.id); refresh(); } })),
    el("td", {}, apiImage(`catalog/${p.id}/thumb`, p.file_name, { class: "thumb", width: 64, height: 64 })),
    el("th", { scope: "row" }, el("span", { class: "name" }, p.file_name),
       el("div", { class: "muted small" }, `${p.width}×${p.height} · ${fmtBytes(p.size_bytes)}`)),
    el("td", {}, p.shoot || el("span", { class: "muted" }, t("no_shoot"))),
    el("td", {}, p.taken_at ? fmtTime(p.taken_at) : el("span", { class: "muted" }, t("no_capture_time"))),
    el("td", {}, [p.camera_make, p.camera_model].filter(Boolean).join(" ") || el("span", { class: "muted" }, t("none"))),
    el("td", {}, fmtTime(p.registered_at)),
    el("td", {}, el("code", { class: "sha", title: p.sha256 }, `${p.sha256.slice(0, 12)}…`)),
    el("td", {}, foundCell(p.found))));
  const shootSelect = el("select", { id: "filter-shoot", onchange: async (e) => {
    view.shoot = e.target.value === "*" ? null : e.target.value;
    view.offset = 0;
    await rerender();
  } }, el("option", { value: "*", selected: view.shoot === null }, t("all_shoots")),
     el("option", { value: "", selected: view.shoot === "" }, t("no_shoot")),
     data.shoots.map((s) => el("option", { value: s.name, selected: view.shoot === s.name },
                               `${s.name} (${s.photos})`)));
  const search = el("input", { id: "catalog-q", type: "search", value: view.q });
  return [
    heading(t("catalog_title")),
    el("p", { class: "lead" }, t("catalog_lead", { n: data.total })),
    el("div", { class: "grid2" }, uploadPanel(rerender), folderPanel(rerender)),
    el("section", { class: "card", "aria-labelledby": "photos-h" },
      el("h2", { id: "photos-h" }, t("photos_title")),
      el("form", { class: "row wrap", role: "search", onsubmit: async (e) => {
        e.preventDefault(); view.q = search.value.trim(); view.offset = 0; await rerender();
      } },
        el("div", { class: "field" }, el("label", { for: "filter-shoot" }, t("filter_shoot")), shootSelect),
        el("div", { class: "field" }, el("label", { for: "catalog-q" }, t("search_photos")), search),
        el("button", { type: "submit", class: "btn" }, t("search"))),
      el("div", { class: "row wrap bulk" }, count,
        el("div", { class: "field inline" }, el("label", { for: "set-shoot" }, t("new_shoot_name")), shootName),
        setShoot, remove),
      data.photos.length ? el("div", { class: "table-wrap" }, el("table", { class: "catalog" },
        el("caption", { class: "visually-hidden" }, t("photos_title")),
        el("thead", {}, el("tr", {}, el("th", { scope: "col" },
          el("span", { class: "visually-hidden" }, t("col_select"))), ["thumb", "file", "shoot", "captured", "camera",
          "registered", "sha256", "found_on"].map((k) => el("th", { scope: "col" }, t(`col_${k}`))))),
        el("tbody", {}, rows))) : el("p", { class: "empty" }, t("no_photos")),
      pager(data.offset, data.limit, data.total, async (offset) => { view.offset = offset; await rerender(); })),
  ];
}
