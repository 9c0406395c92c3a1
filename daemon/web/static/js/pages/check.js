// Check before publishing: drop photos, see for each whether another store's photo resembles it.
import { api, apiPath, fileBase64 } from "../api.js";
import { fmtTime, t } from "../i18n.js";
import { button, dropZone, el, errorText, heading, progressBar } from "../ui.js";

const MAX_BYTES = 6 * 1024 * 1024; // base64 in a JSON body must stay under the daemon's 8 MB cap

async function runCheck(image) {
  let answer = await api("check", { method: "POST", body: { image } });
  // The competitor index may answer 202 with a job to poll: {"job": ..., "poll": url}; the
  // poll answers the same until the result (hits) is there, or an error.
  for (let tries = 0; !answer.hits && answer.poll && tries < 600; tries += 1) {
    await new Promise((r) => setTimeout(r, 500));
    const next = await api(apiPath(answer.poll));
    if (next.error || next.state === "failed") throw new Error(next.error || t("error"));
    answer = next.result ? next.result : { ...next, poll: next.poll || answer.poll };
  }
  if (!answer.hits) throw new Error(t("check_no_answer"));
  return answer;
}

async function comparePicture(image, imageId, alt) {
  const response = await api("check/compare.png", { method: "POST", raw: true,
                                                    body: { image, image_id: imageId } });
  const img = el("img", { alt, class: "compare" });
  img.src = URL.createObjectURL(await response.blob());
  return img;
}

function resultCard(file) {
  const status = el("p", { class: "muted" }, t("checking"));
  const bar = progressBar(t("checking_of", { name: file.name }));
  bar.removeAttribute("value"); // indeterminate while the daemon searches
  const body = el("div", {});
  const card = el("article", { class: "card check-result", "aria-busy": "true" },
    el("h2", {}, file.name), bar, status, body);
  const work = async () => {
    try {
      if (file.size > MAX_BYTES) throw new Error(t("check_too_large"));
      const image = await fileBase64(file);
      const answer = await runCheck(image);
      const hits = answer.hits || [];
      card.classList.add(hits.length ? "risk" : "clear");
      status.className = hits.length ? "verdict-line risk" : "verdict-line clear";
      status.textContent = hits.length ? t("check_resembles", { n: hits.length })
        : t("check_clear");
      for (const hit of hits.slice(0, 5)) {
        const store = hit.store_name || hit.store_id || t("unknown_store");
        const figure = el("figure", {}, el("p", { class: "muted" }, t("loading")));
        body.append(el("section", { class: "hit" },
          el("h3", {}, t("check_hit", { store })),
          el("p", { class: "small" },
            `${t(`match_${hit.kind}`)} · ${hit.score} · ${t("first_seen")}: ${fmtTime(hit.first_seen)} · `,
            hit.listing_url ? el("a", { href: hit.listing_url, target: "_blank",
                                        rel: "noreferrer noopener" }, hit.title || hit.listing_url) : ""),
          figure));
        comparePicture(image, hit.image_id, t("check_compare_alt", { store }))
          .then((img) => figure.replaceChildren(img))
          .catch((error) => figure.replaceChildren(el("p", { class: "muted" }, errorText(error))));
      }
    } catch (error) {
      status.className = "error";
      status.textContent = errorText(error);
    } finally {
      bar.remove();
      card.removeAttribute("aria-busy");
    }
  };
  return { card, work };
}

export async function checkPage() {
  const results = el("div", { class: "results", "aria-live": "polite" });
  let queued = [];
  const chosen = el("p", { class: "muted", role: "status" }, t("check_none_chosen"));
  const go = button(t("check_button"), async () => {
    const files = queued;
    queued = [];
    go.disabled = true;
    chosen.textContent = t("check_none_chosen");
    results.replaceChildren();
    for (const file of files) {
      const { card, work } = resultCard(file);
      results.append(card);
      await work();
    }
  }, { class: "btn primary", disabled: true });
  const zone = dropZone(t("choose_photos"), (files) => {
    queued = files;
    chosen.textContent = t("check_chosen", { n: files.length, names: files.map((f) => f.name).join(", ") });
    go.disabled = files.length === 0;
  });
  return [
    heading(t("check_title")),
    el("p", { class: "lead" }, t("check_lead")),
    el("section", { class: "card" }, zone, chosen, el("div", { class: "row" }, go)),
    results,
  ];
}
