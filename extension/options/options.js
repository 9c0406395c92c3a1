// Options: the daemon's address and the pairing token, "test connection" in plain words,
// and a way to give back host access the seller revoked (Firefox).
import { el, ext, localize, requestAccess, send, t } from "../shared/i18n.js";

const DEFAULT_URL = "http://127.0.0.1:8765";
const $ = (id) => document.getElementById(id);

const RESULT = {
  connected: "resultConnected",
  not_running: "resultNotRunning",
  not_paired: "resultNoToken",
  bad_token: "resultBadToken",
  bad_token_format: "resultBadTokenFormat",
  refused: "resultRefused",
  not_picguard: "resultNotPicguard",
  bad_url: "resultBadUrl",
};

function showResult(answer, daemonUrl, saved) {
  const box = $("result");
  const state = answer.ok ? answer.state : "not_running";
  box.dataset.state = state;
  let text = t(RESULT[state] ?? "resultNotRunning", [daemonUrl]);
  if (state === "connected") {
    const s = answer.status ?? {};
    text = t("resultConnected", [String(s.version ?? "?"), String(s.catalog?.photos ?? 0),
      String(s.alerts?.new ?? 0)]);
  }
  box.replaceChildren(el("strong", { text: saved ? t("resultSaved") : "" }), text);
}

async function test(saved) {
  const daemonUrl = $("daemon-url").value.trim() || DEFAULT_URL;
  const token = $("token").value.trim();
  $("result").dataset.state = "checking";
  $("result").textContent = t("stateChecking");
  const answer = await send({ type: "test-connection", daemonUrl, token });
  showResult(answer, daemonUrl, saved);
  return answer;
}

async function save(event) {
  event.preventDefault();
  const daemonUrl = ($("daemon-url").value.trim() || DEFAULT_URL).replace(/\/+$/, "");
  const token = $("token").value.trim();
  const check = await send({ type: "test-connection", daemonUrl, token });
  if (check.ok && ["bad_url", "bad_token_format"].includes(check.state)) {
    showResult(check, daemonUrl, false);   // nothing saved: the seller must fix the field
    return;
  }
  await ext.storage.local.set({ daemonUrl, token });
  $("daemon-url").value = daemonUrl;
  await test(true);
}

async function showAccess() {
  const origins = ext.runtime.getManifest().host_permissions ?? [];
  const granted = await ext.permissions.contains({ origins }).catch(() => false);
  $("access-box").hidden = granted;
}

async function main() {
  localize();
  const stored = await ext.storage.local.get(["daemonUrl", "token"]);
  $("daemon-url").value = stored.daemonUrl || DEFAULT_URL;
  $("token").value = stored.token || "";
  $("form").addEventListener("submit", save);
  $("test").addEventListener("click", () => test(false));
  $("show-token").addEventListener("click", () => {
    const input = $("token");
    input.type = input.type === "password" ? "text" : "password";
    $("show-token").textContent = t(input.type === "password" ? "buttonShow" : "buttonHide");
  });
  $("grant").addEventListener("click", async () => {
    await requestAccess().catch(() => false);
    await showAccess();
    await send({ type: "poll-now" });
  });
  ext.permissions.onAdded?.addListener(showAccess);
  ext.permissions.onRemoved?.addListener(showAccess);
  await showAccess();
  document.body.dataset.ready = "true";
}

main();
