// PicGuard background: the service worker (Chromium) / background script (Firefox).
// Every listener is registered synchronously here so events wake a suspended worker.
import { install } from "./background/main.js";

install();
