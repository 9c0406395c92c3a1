// Sizes and counts the background enforces on everything it is handed.
export const MAX_URL_CHARS = 2048;
export const MAX_HTML_BYTES = 5 * 1024 * 1024;     // page HTML pushed to the daemon
export const MAX_MTOP_BYTES = 2 * 1024 * 1024;     // captured mtop JSON, serialised
export const MAX_VERDICT_URLS = 500;               // docs/API.md: at most 500 per request
export const MAX_CHECK_IMAGE_BYTES = 6 * 1024 * 1024;

export const QUEUE_MAX_ENTRIES = 50;               // oldest dropped (and counted) beyond this
export const QUEUE_MAX_BYTES = 8 * 1024 * 1024;    // chrome's storage.local quota is 10 MB
export const BACKOFF_BASE_MS = 2000;
export const BACKOFF_MAX_MS = 5 * 60 * 1000;

export const REQUEST_TIMEOUT_MS = 15000;
export const DEFAULT_POLL_SECONDS = 60;
export const MIN_POLL_SECONDS = 1;                 // unpacked builds may poll fast (tests)
export const MAX_NOTIFICATIONS_PER_POLL = 5;

export const SWEEP_IMAGE_MAX_BYTES = 600 * 1024;   // the daemon sends at most 400 KB
export const SWEEP_TAB_TIMEOUT_MS = 90 * 1000;     // a sweep page that never pushes fails
export const SWEEP_CHECK_MINUTES = 1;              // how often the worker asks for a task
export const SWEEP_IDLE_SECONDS = 300;             // "away" after 5 minutes without input
