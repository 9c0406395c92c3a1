// Proof: the provenance ledger's head, its last witness, and verifying the chain.
import { api } from "../api.js";
import { fmtTime, t } from "../i18n.js";
import { button, el, errorText, heading, progressBar } from "../ui.js";

export async function proofPage() {
  const data = await api("ledger");
  const head = data.head;
  const witness = data.last_witness;
  const result = el("div", { role: "status", id: "verify-result" });
  const verify = button(t("verify_ledger"), async () => {
    verify.disabled = true;
    const bar = progressBar(t("verifying"));
    bar.removeAttribute("value");
    result.replaceChildren(bar, el("span", { class: "muted" }, t("verifying")));
    try {
      const r = await api("ledger/verify", { method: "POST", body: {} });
      result.replaceChildren(r.ok
        ? el("p", { class: "ok verdict-line" }, t("verify_ok", { n: r.entries }))
        : el("div", {}, el("p", { class: "error verdict-line" }, t("verify_broken", { seq: r.first_broken_seq })),
            el("ul", {}, r.problems.slice(0, 10).map((p) => el("li", {}, `#${p.seq}: ${p.message}`)))));
      result.dataset.ok = String(r.ok);
    } catch (error) {
      result.replaceChildren(el("p", { class: "error" }, errorText(error)));
    } finally { verify.disabled = false; }
  }, { class: "btn primary" });
  return [
    heading(t("proof_title")),
    el("p", { class: "lead" }, t("proof_lead")),
    el("div", { class: "grid2" },
      el("section", { class: "card", "aria-labelledby": "head-h" },
        el("h2", { id: "head-h" }, t("ledger_head")),
        head ? el("dl", { class: "facts" },
          el("dt", {}, t("entries")), el("dd", {}, data.entries),
          el("dt", {}, t("head_seq")), el("dd", {}, head.seq),
          el("dt", {}, t("head_hash")), el("dd", { class: "mono" }, head.entry_hash),
          el("dt", {}, t("head_time")), el("dd", {}, fmtTime(head.time)),
          el("dt", {}, t("key_id")), el("dd", { class: "mono" }, head.key_id))
          : el("p", { class: "muted" }, t("ledger_empty"))),
      el("section", { class: "card", "aria-labelledby": "witness-h" },
        el("h2", { id: "witness-h" }, t("last_witness")),
        witness ? el("dl", { class: "facts" },
          el("dt", {}, t("sent_at")), el("dd", {}, fmtTime(witness.sent_at)),
          el("dt", {}, t("head_seq")), el("dd", {}, witness.seq),
          el("dt", {}, t("channels")), el("dd", {}, witness.channels),
          el("dt", {}, t("result")), el("dd", { class: witness.error ? "error" : "ok" }, witness.error || t("ok")))
          : el("p", { class: "muted" }, t("no_witness")))),
    el("section", { class: "card", "aria-labelledby": "verify-h" },
      el("h2", { id: "verify-h" }, t("verify_title")),
      el("p", { class: "muted small" }, t("verify_help")),
      verify, result),
  ];
}
