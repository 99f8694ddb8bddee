// The hub's HTTP API as the browser sees it: JSON GETs, SSE streams, and the viewer token.

const TOKEN_KEY = "forge.viewerToken";

/** Raised when the hub answers 401: the dashboard then shows its sign-in state. */
export class AuthError extends Error {
  constructor(message) { super(message); this.name = "AuthError"; }
}

export class ApiError extends Error {
  constructor(status, message) { super(message); this.name = "ApiError"; this.status = status; }
}

const authListeners = new Set();
const connectionListeners = new Set();

/** Call `fn(state)` ("open" | "reconnecting") as live streams connect and drop. */
export function onConnection(fn) {
  connectionListeners.add(fn);
  return () => connectionListeners.delete(fn);
}

function connectionState(state) {
  for (const fn of connectionListeners) fn(state);
}

/** Call `fn(message)` whenever a request is refused for want of a viewer token. */
export function onAuthRequired(fn) {
  authListeners.add(fn);
  return () => authListeners.delete(fn);
}

function authRequired(message) {
  for (const fn of authListeners) fn(message);
}

export function viewerToken() {
  try { return localStorage.getItem(TOKEN_KEY) || ""; } catch { return ""; }
}

export function setViewerToken(token) {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token); else localStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: the token lasts for this page only */ }
}

/** A request index.html started before the modules loaded (the fleet's data), used by the first getJSON only. */
function takeEarly(path) {
  const early = window.forgeEarly?.[path];
  if (early) delete window.forgeEarly[path];
  return early;
}

export async function getJSON(path, { signal } = {}) {
  const headers = { Accept: "application/json" };
  const tok = viewerToken();
  if (tok) headers.Authorization = `Bearer ${tok}`;
  const resp = await (takeEarly(path) || fetch(path, { headers, signal, cache: "no-store" }));
  let body = null;
  try { body = await resp.json(); } catch { /* not JSON: keep null */ }
  if (resp.status === 401) {
    const msg = body?.message || "this hub needs a viewer token";
    authRequired(msg);
    throw new AuthError(msg);
  }
  if (!resp.ok) throw new ApiError(resp.status, body?.message || `${path} answered ${resp.status}`);
  return body;
}

/** A URL for EventSource, which cannot send headers: the token goes in the query. */
function streamURL(path) {
  const tok = viewerToken();
  if (!tok) return path;
  return `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(tok)}`;
}

/**
 * An SSE subscription that survives hub restarts.
 *
 * EventSource retries by itself after a dropped connection, but gives up for good
 * when a reconnect is answered with an error status (a proxy's 502, a 401). Then we
 * probe the hub and open a new one with backoff. `onOpen(reconnected)` runs on every
 * (re)connection so views can re-fetch what they missed while disconnected.
 */
export class Stream {
  constructor(path, handlers, { onOpen = () => {}, onState = connectionState } = {}) {
    this.path = path;
    this.handlers = handlers;
    this.onOpen = onOpen;
    this.onState = onState;
    this.es = null;
    this.opened = false;
    this.closed = false;
    this.retryMs = 1000;
    this.timer = 0;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const es = new EventSource(streamURL(this.path));
    this.es = es;
    for (const [name, fn] of Object.entries(this.handlers)) {
      es.addEventListener(name, (ev) => {
        let data;
        try { data = JSON.parse(ev.data); } catch { return; }
        fn(data);
      });
    }
    es.onopen = () => {
      this.retryMs = 1000;
      this.onState("open");
      const again = this.opened;
      this.opened = true;
      this.onOpen(again);
    };
    es.onerror = () => {
      this.onState("reconnecting");
      if (es.readyState === EventSource.CLOSED) this.recover();
    };
  }

  async recover() {
    this.es?.close();
    this.es = null;
    if (this.closed) return;
    try {
      const resp = await fetch(streamURL("/api/health"), { cache: "no-store" });
      if (resp.ok) {
        // The hub is up but refused the stream: most likely a token problem.
        await getJSON("/api/fleet").catch(() => {});
      }
    } catch { /* hub still down */ }
    this.timer = setTimeout(() => this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 15000);
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.es?.close();
    this.es = null;
    this.onState("closed");
  }
}
