// Small DOM helpers: elements, notices, dialogs, progress, blob images, downloads.
import { apiBlob } from "./api.js";
import { t } from "./i18n.js";

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && !key.includes("-")) node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function button(label, onclick, props = {}) {
  return el("button", { type: "button", class: "btn", onclick, ...props }, label);
}

export function toast(message, kind = "ok") {
  const box = document.getElementById("toast");
  box.replaceChildren(el("p", { class: `toast ${kind}` }, message));
  clearTimeout(box._timer);
  box._timer = setTimeout(() => box.replaceChildren(), 8000);
}

export function errorText(error) {
  return error?.message ? `${t("error")}: ${error.message}` : t("error");
}

// A modal question with real buttons; resolves true (confirm) or false.
export function ask(title, text, confirmLabel, cancelLabel = t("cancel")) {
  const dialog = document.getElementById("dialog");
  return new Promise((resolve) => {
    const done = (value) => { dialog.close(); resolve(value); };
    dialog.replaceChildren(
      el("h2", { id: "dialog-title" }, title),
      el("p", {}, text),
      el("div", { class: "row end" },
         button(cancelLabel, () => done(false), { class: "btn ghost" }),
         button(confirmLabel, () => done(true), { class: "btn primary", autofocus: true })),
    );
    dialog.setAttribute("aria-labelledby", "dialog-title");
    dialog.onclose = () => resolve(false);
    dialog.showModal();
  });
}

export function progressBar(label) {
  const bar = el("progress", { max: 1, value: 0, "aria-label": label });
  return bar;
}

// An <img> whose bytes come from the token-protected API (as a blob: URL).
export function apiImage(path, alt, props = {}) {
  const img = el("img", { alt, loading: "lazy", ...props });
  apiBlob(path).then((blob) => { img.src = URL.createObjectURL(blob); })
    .catch(() => { img.alt = `${alt} (${t("image_unavailable")})`; img.classList.add("missing"); });
  return img;
}

export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

export function kindBadge(kind) {
  return el("span", { class: `badge kind-${kind}` }, t(`kind_${kind}`));
}

export function stateBadge(state) {
  return el("span", { class: `badge state-${state}` }, t(`state_${state}`));
}

export function heading(text) {
  return el("h1", { id: "page-title", tabindex: "-1" }, text);
}

export function pager(offset, limit, total, go) {
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.max(1, Math.ceil(total / limit));
  return el("nav", { class: "pager", "aria-label": t("pages") },
    button(t("previous"), () => go(Math.max(0, offset - limit)), { disabled: offset <= 0 }),
    el("span", {}, t("page_of", { page, pages, total })),
    button(t("next"), () => go(offset + limit), { disabled: offset + limit >= total }));
}

export function dropZone(label, onFiles, { accept = "image/*", multiple = true } = {}) {
  const input = el("input", { type: "file", accept, multiple, hidden: true, tabindex: "-1",
                              "aria-hidden": "true",
                              onchange: () => { onFiles([...input.files]); input.value = ""; } });
  const zone = el("div", { class: "drop" },
    el("p", {}, t("drop_here")),
    button(label, () => input.click(), { class: "btn primary" }), input);
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    onFiles([...e.dataTransfer.files].filter((f) => f.type.startsWith("image/") || /\.(jpe?g|png|webp|avif|heic|heif|tiff?|bmp|gif)$/i.test(f.name)));
  });
  return zone;
}
