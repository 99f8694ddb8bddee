// Entry point: theme, sign-in state, connection banner, and the page registry.

import { onAuthRequired, onConnection, setViewerToken, viewerToken } from "./api.js";
import { h } from "./dom.js";
import { startAlerts } from "./alertstate.js";
import { route, Router } from "./router.js";

const THEME_KEY = "forge.theme";

/**
 * A page whose module is fetched when it is first shown: the fleet's first paint waits for
 * the fleet's modules only, not for every page's (node.js, job.js, ... are half the code).
 */
function lazy(load, name) {
  return (view, params) => load().then((m) => m[name](view, params));
}

// Pages: a path, its renderer and, for the nav bar, a label and a place.
route("/", lazy(() => import("./home.js"), "renderHome"), { nav: "This machine", order: 10 });
route("/fleet", lazy(() => import("./fleet.js"), "renderFleet"), { nav: "Fleet", order: 20 });
route("/node/:id", lazy(() => import("./node.js"), "renderNode"));
route("/jobs", lazy(() => import("./jobs.js"), "renderJobs"), { nav: "Jobs", order: 30 });
route("/jobs/:id", lazy(() => import("./job.js"), "renderJob"));
route("/batch/:id", lazy(() => import("./batch.js"), "renderBatch"));
route("/add", lazy(() => import("./add.js"), "renderAdd"), { nav: "Add a machine", order: 40 });
route("/alerts", lazy(() => import("./alerts.js"), "renderAlerts"), { nav: "Alerts", order: 35 });

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  const btn = document.getElementById("theme");
  btn.textContent = theme === "dark" ? "Light theme" : "Dark theme";
  btn.setAttribute("aria-label", `Switch to the ${theme === "dark" ? "light" : "dark"} theme`);
}

/** The OS's light/dark setting, followed live until the user picks a theme here. */
function setupTheme() {
  const media = window.matchMedia?.("(prefers-color-scheme: light)");
  const systemTheme = () => (media?.matches ? "light" : "dark");
  let chosen = null;
  try { chosen = localStorage.getItem(THEME_KEY); } catch { /* not remembered */ }
  applyTheme(chosen || systemTheme());
  media?.addEventListener?.("change", () => {
    let still = null;
    try { still = localStorage.getItem(THEME_KEY); } catch { /* not remembered */ }
    if (still) return;
    applyTheme(systemTheme());
    window.dispatchEvent(new CustomEvent("forge-theme", { detail: systemTheme() }));
  });
  document.getElementById("theme").addEventListener("click", () => {
    const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    try { localStorage.setItem(THEME_KEY, next); } catch { /* not remembered */ }
    applyTheme(next);
    window.dispatchEvent(new CustomEvent("forge-theme", { detail: next }));
  });
}

/** A banner while live streams are down (the hub restarting, the network gone). */
function setupConnectionBanner() {
  const banner = document.getElementById("conn");
  let timer = 0;
  onConnection((state) => {
    clearTimeout(timer);
    if (state === "reconnecting") {
      // Brief blips (a stream re-opened by navigation) should not flash a banner.
      timer = setTimeout(() => { banner.hidden = false; }, 1500);
    } else {
      banner.hidden = true;
    }
  });
}

function renderSignIn(view, message) {
  const input = h("input", { type: "password", id: "viewer-token", autocomplete: "current-password",
                             required: true, placeholder: "Viewer token" });
  const had = viewerToken();
  const form = h("form", { class: "signin" },
    h("h1", {}, "Sign in to this hub"),
    h("p", {}, "This hub only shows its fleet to viewers with a token. ",
      "Ask whoever runs it for the viewer token (set with ", h("code", {}, "forge hub --viewer-token"), ")."),
    had ? h("p", { class: "error", role: "alert" }, `The saved token was not accepted: ${message}`) : null,
    h("label", { for: "viewer-token" }, "Viewer token"),
    input,
    h("button", { type: "submit" }, "Sign in"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    setViewerToken(input.value.trim());
    router.refresh();
  });
  view.append(form);
  setTimeout(() => input.focus(), 0);
}

function renderNotFound(view, path) {
  view.append(h("div", { class: "empty" }, h("p", {}, `Nothing here (${path}). `),
    h("p", {}, h("a", { href: "#/fleet" }, "Go to the fleet"))));
}

const router = new Router(document.getElementById("main"), document.getElementById("nav"), { notFound: renderNotFound });

onAuthRequired((message) => router.replace((view) => renderSignIn(view, message)));
setupTheme();
setupConnectionBanner();
router.start();
startAlerts();
