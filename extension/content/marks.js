// Marking the seller's photos on the page: a frame and a label drawn in PicGuard's own
// overlay (a closed shadow root, fixed over the viewport, pointer-events: none). Page
// elements are never restyled or moved, so the layout and clicks stay as they were.
"use strict";
(() => {
  const PG = globalThis.PicGuard;
  const STYLES = {
    copy_of_yours: { color: "#d93025", label: "markCopy" },
    resembles_yours: { color: "#e37400", label: "markResembles" },
    yours: { color: "#188038", label: "markYours" },
  };
  const MIN_SIDE = 24;
  let host = null;
  let root = null;
  const marks = new Map();   // img element -> {verdict, box}
  let frame = 0;
  let timer = 0;

  function ensureLayer() {
    if (host && host.isConnected) return;
    host = document.createElement("picguard-overlay");
    host.setAttribute("aria-hidden", "false");
    host.style.cssText = "all: initial !important; position: fixed !important; inset: 0 !important;"
      + " pointer-events: none !important; z-index: 2147483646 !important;"
      + " display: block !important; overflow: hidden !important; contain: layout style !important;";
    root = host.attachShadow({ mode: "closed" });
    const style = document.createElement("style");
    style.textContent = `
      .mark { position: absolute; box-sizing: border-box; border: 3px solid var(--c);
        border-radius: 4px; box-shadow: 0 0 0 1px #fff, inset 0 0 0 1px #fff;
        pointer-events: none; left: 0; top: 0; }
      .label { position: absolute; left: -3px; top: -3px; max-width: calc(100% + 6px);
        overflow: hidden; white-space: nowrap; text-overflow: ellipsis;
        background: var(--c); color: #fff; font: 600 12px/1.4 system-ui, "PingFang SC",
        "Microsoft YaHei", sans-serif; padding: 2px 6px; border-radius: 4px 0 4px 0; }`;
    root.append(style);
    document.documentElement.append(host);
  }

  function place() {
    frame = 0;
    for (const [img, mark] of marks) {
      if (!img.isConnected) {
        mark.box.remove();
        marks.delete(img);
        continue;
      }
      const r = img.getBoundingClientRect();
      const visible = r.width >= MIN_SIDE && r.height >= MIN_SIDE
        && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth;
      mark.box.style.display = visible ? "block" : "none";
      if (visible) {
        mark.box.style.transform = `translate(${Math.round(r.left)}px, ${Math.round(r.top)}px)`;
        mark.box.style.width = `${Math.round(r.width)}px`;
        mark.box.style.height = `${Math.round(r.height)}px`;
      }
    }
    if (!marks.size) stopTracking();
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(place);
  }

  function startTracking() {
    if (timer) return;
    addEventListener("scroll", schedule, { capture: true, passive: true });
    addEventListener("resize", schedule, { passive: true });
    timer = setInterval(schedule, 500);   // carousels move images without scroll events
  }

  function stopTracking() {
    removeEventListener("scroll", schedule, { capture: true });
    removeEventListener("resize", schedule);
    clearInterval(timer);
    timer = 0;
  }

  /** Mark `img` with a verdict; verdicts other than the seller's photos remove any mark. */
  function mark(img, verdict) {
    const style = STYLES[verdict];
    const current = marks.get(img);
    if (current && current.verdict === verdict) return;
    if (current) {
      current.box.remove();
      marks.delete(img);
    }
    if (!style) return;
    ensureLayer();
    const box = document.createElement("div");
    box.className = "mark";
    box.style.setProperty("--c", style.color);
    const label = document.createElement("div");
    label.className = "label";
    label.textContent = PG.t(style.label);
    box.append(label);
    root.append(box);
    marks.set(img, { verdict, box });
    startTracking();
    schedule();
  }

  function clearMarks() {
    for (const { box } of marks.values()) box.remove();
    marks.clear();
    stopTracking();
  }

  /** What is marked, for diagnosis (and the extension's own tests). */
  function markedImages() {
    place();
    return [...marks].map(([img, m]) => ({
      src: img.currentSrc || img.src, verdict: m.verdict, label: m.box.textContent,
      box: m.box.style.display === "none" ? null : m.box.getBoundingClientRect().toJSON(),
      image: img.getBoundingClientRect().toJSON(),
    }));
  }

  Object.assign(PG, { mark, clearMarks, markedImages });
})();
