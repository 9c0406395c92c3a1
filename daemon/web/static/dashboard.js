// PicGuard dashboard: reads the daemon's API with the pairing token kept in sessionStorage.
"use strict";

const KEY = "picguard-token";

function takeTokenFromFragment() {
  const match = location.hash.match(/token=([A-Za-z0-9_-]+)/);
  if (match) {
    sessionStorage.setItem(KEY, match[1]);
    history.replaceState(null, "", location.pathname);  // keep the token out of history
  }
  return sessionStorage.getItem(KEY);
}

async function api(path) {
  const response = await fetch(`/api/v1/${path}`, {
    headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY)}` },
    credentials: "omit",
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function el(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message;
  box.hidden = !message;
}

async function render() {
  try {
    const status = await api("status");
    const rows = [
      ["原图 / Photos", status.catalog.photos],
      ["商品页 / Listings", status.listings],
      ["图片 / Images", `${status.images.fetched} ✓ · ${status.images.queued} … · ${status.images.failed} ✗`],
      ["新提醒 / New alerts", status.alerts.new],
      ["上次扫描 / Last scan", status.scheduler.last_scan || "-"],
    ];
    document.getElementById("status").replaceChildren(
      ...rows.flatMap(([k, v]) => [el("dt", { textContent: k }), el("dd", { textContent: String(v) })]));
    const { alerts } = await api("alerts?state=all&limit=100");
    document.getElementById("empty").hidden = alerts.length > 0;
    document.getElementById("alerts").replaceChildren(...alerts.reverse().map((a) => el("li", {}, [
      el("img", { src: a.own.thumb || "", alt: a.own.file_name }),
      el("img", { src: a.other.thumb || "", alt: a.other.url }),
      el("div", {}, [
        el("div", { className: `kind-${a.kind}`, textContent: a.kind === "copied"
          ? "你的照片被其他店铺使用 / Your photo on another store"
          : "与其他店铺更早的照片相似 / Resembles another store's earlier photo" }),
        el("div", { textContent: `${a.other.store_name || a.other.store_id || ""} · ${a.other.title || ""}` }),
        el("a", { href: a.other.listing_url || "#", textContent: a.other.listing_url || "", rel: "noreferrer", target: "_blank" }),
        el("div", { textContent: `#${a.id} · ${a.state} · score ${a.score} · first seen ${a.other.first_seen}` }),
      ]),
    ])));
    showError("");
  } catch (err) {
    showError(`无法读取 / Cannot read: ${err.message}`);
    document.getElementById("pair").hidden = false;
  }
}

document.getElementById("save-token").addEventListener("click", () => {
  sessionStorage.setItem(KEY, document.getElementById("token").value.trim());
  document.getElementById("pair").hidden = true;
  render();
});

if (!takeTokenFromFragment()) document.getElementById("pair").hidden = false;
render();
setInterval(render, 15000);
