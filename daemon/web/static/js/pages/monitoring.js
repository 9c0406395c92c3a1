// Monitoring: jobs and their last run, the image queue, watched URLs, sweeps and coverage.
import { api } from "../api.js";
import { fmtTime, t } from "../i18n.js";
import { button, el, errorText, heading, toast } from "../ui.js";

async function optional(path) {
  try { return await api(path); } catch (error) {
    if (error.status === 404) return null; // the discovery routes are not in this daemon
    throw error;
  }
}

function table(caption, cols, rows) {
  return el("div", { class: "table-wrap" }, el("table", {},
    el("caption", { class: "visually-hidden" }, caption),
    el("thead", {}, el("tr", {}, cols.map((c) => el("th", { scope: "col" }, c)))),
    el("tbody", {}, rows)));
}

function jobsSection(data, rerender) {
  const jobs = data.scheduler.jobs || {};
  const rows = data.jobs.map((name) => {
    const rec = jobs[name];
    return el("tr", {},
      el("th", { scope: "row" }, t(`job_${name}`)),
      el("td", {}, rec ? fmtTime(rec.at) : t("not_yet")),
      el("td", { class: "nowrap" }, rec ? `${rec.seconds} s` : ""),
      el("td", { class: rec?.error ? "error" : "nowrap" }, rec?.error || (rec ? t("ok") : "")),
      el("td", {}, button(t("run_now"),
        async () => {
          try {
            await api("monitoring/run", { method: "POST", body: { job: name } });
            toast(t("job_started", { job: t(`job_${name}`) }));
            setTimeout(() => rerender(), 1500);
          } catch (error) { toast(errorText(error), "bad"); }
        }, { "aria-label": `${t("run_now")}: ${t(`job_${name}`)}` })));
  });
  return el("section", { class: "card", "aria-labelledby": "jobs-h" },
    el("h2", { id: "jobs-h" }, t("jobs_title")),
    el("p", {}, data.scheduler.running ? t("scheduler_running") : t("scheduler_stopped"),
       " · ", t("last_scan"), ": ", fmtTime(data.scheduler.last_scan)),
    table(t("jobs_title"), [t("col_job"), t("col_last_run"), t("col_took"), t("col_result"), t("col_action")], rows));
}

function queueSection(queue) {
  const c = queue.counts;
  return el("section", { class: "card", "aria-labelledby": "queue-h" },
    el("h2", { id: "queue-h" }, t("queue_title")),
    el("dl", { class: "stats" },
      ["queued", "fetched", "failed"].map((k) => el("div", {}, el("dt", {}, t(`queue_${k}`)), el("dd", {}, c[k] ?? 0)))),
    el("p", { class: "muted small" }, t("next_due"), ": ", fmtTime(queue.next_due)),
    queue.failures.length ? table(t("queue_failures"), [t("col_image"), t("col_error"), t("col_attempts")],
      queue.failures.slice(0, 8).map((f) => el("tr", {},
        el("td", { class: "url" }, f.url), el("td", {}, f.error || f.error_code || ""), el("td", {}, f.attempts))))
      : el("p", { class: "muted" }, t("no_failures")));
}

function watchesSection(watches, rerender) {
  const url = el("input", { id: "watch-url", type: "url", size: 50, placeholder: "https://www.aliexpress.com/item/….html" });
  const rows = watches.map((w) => el("tr", {},
    el("td", { class: "url" }, el("a", { href: w.url, target: "_blank", rel: "noreferrer noopener" }, w.url)),
    el("td", {}, w.last_visit_at ? fmtTime(w.last_visit_at) : t("not_yet")),
    el("td", { class: w.last_error ? "error" : "" }, w.last_error || w.last_status || t("pending")),
    el("td", {}, fmtTime(w.next_visit_at)),
    el("td", { class: "row" },
      button(t("run_now"), async () => {
        try { await api(`watch/${w.id}/run`, { method: "POST", body: {} }); toast(t("watch_queued")); }
        catch (error) { toast(errorText(error), "bad"); }
      }, { "aria-label": `${t("run_now")}: ${w.url}` }),
      button(t("remove"), async () => {
        try { await api(`watch/${w.id}`, { method: "DELETE" }); toast(t("watch_removed")); await rerender(); }
        catch (error) { toast(errorText(error), "bad"); }
      }, { class: "btn danger", "aria-label": `${t("remove")}: ${w.url}` }))));
  return el("section", { class: "card", "aria-labelledby": "watch-h" },
    el("h2", { id: "watch-h" }, t("watches_title")),
    el("form", { class: "row wrap", onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api("watch", { method: "POST", body: { url: url.value.trim() } });
        toast(t("watch_added"));
        await rerender();
      } catch (error) { toast(errorText(error), "bad"); }
    } },
      el("div", { class: "field grow" }, el("label", { for: "watch-url" }, t("watch_url")), url),
      el("button", { type: "submit", class: "btn primary" }, t("add_watch"))),
    watches.length ? table(t("watches_title"), [t("col_url"), t("col_last_visit"), t("col_status"), t("col_next"), t("col_action")], rows)
      : el("p", { class: "muted" }, t("no_watches")));
}

function discoverySection(coverage, sweeps, rerender) {
  const body = [el("h2", { id: "disc-h" }, t("discovery_title"))];
  if (!coverage && !sweeps) {
    body.push(el("p", { class: "muted" }, t("discovery_missing")));
  }
  if (coverage) {
    const channels = coverage.channels || coverage;
    body.push(table(t("coverage_title"), [t("col_channel"), t("cov_listings_today"), t("cov_listings_total"),
      t("cov_images_total"), t("cov_sweeps_done"), t("cov_sweeps_blocked"), t("col_next")],
      Object.entries(channels).filter(([, v]) => v && typeof v === "object").map(([name, v]) => el("tr", {},
        el("th", { scope: "row" }, t(`channel_${name}`)), el("td", {}, v.listings_today ?? 0),
        el("td", {}, v.listings_total ?? 0), el("td", {}, v.images_total ?? 0),
        el("td", {}, v.sweeps_done ?? 0), el("td", {}, v.sweeps_blocked ?? 0),
        el("td", {}, v.next_due ? fmtTime(v.next_due) : "")))));
  }
  if (sweeps) {
    const list = sweeps.sweeps || [];
    body.push(el("div", { class: "row" }, button(t("sweep_images"), async () => {
      try { await api("sweeps", { method: "POST", body: { kind: "image" } }); toast(t("sweep_queued")); await rerender(); }
      catch (error) { toast(errorText(error), "bad"); }
    }, { class: "btn primary" })));
    body.push(list.length ? table(t("sweeps_title"), [t("col_sweep"), t("col_status"), t("col_created")],
      list.slice(0, 20).map((s) => el("tr", {}, el("td", {}, `#${s.id} ${s.kind || ""}`),
        el("td", {}, s.state || s.status || ""), el("td", {}, fmtTime(s.created_at)))))
      : el("p", { class: "muted" }, t("no_sweeps")));
  }
  return el("section", { class: "card", "aria-labelledby": "disc-h" }, body);
}

export async function monitoringPage(rerender) {
  const [data, coverage, sweeps] = await Promise.all([
    api("monitoring"), optional("coverage"), optional("sweeps")]);
  return [
    heading(t("monitoring_title")),
    el("p", { class: "lead" }, t("monitoring_lead")),
    el("div", { class: "grid2" }, jobsSection(data, rerender), queueSection(data.queue)),
    watchesSection(data.watches, rerender),
    discoverySection(coverage, sweeps, rerender),
  ];
}
