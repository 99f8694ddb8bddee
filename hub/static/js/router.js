// Hash router: a registry of (pattern -> render function), and the nav built from it.
//
// A page module exports `render(root, params)`; it fills `root` and may return a
// cleanup function, called when the user navigates away. To add a page:
//   route("/jobs", renderJobs, { nav: "Jobs" });

const routes = [];

/**
 * Register a page. `pattern` is a path like "/node/:id"; `nav` (optional) is the label
 * of its link in the top navigation, `order` places the link (lower comes first).
 */
export function route(pattern, render, { nav = null, order = 100, href = null } = {}) {
  const names = [];
  const source = pattern.replace(/:(\w+)/g, (_, name) => { names.push(name); return "([^/]+)"; });
  routes.push({ pattern, regex: new RegExp(`^${source}/?$`), names, render, nav, order,
                href: href || `#${pattern}` });
}

export function currentPath() {
  const h = location.hash.replace(/^#/, "");
  return h.startsWith("/") ? h.split("?")[0] : "/";
}

export function go(path) {
  location.hash = `#${path}`;
}

function match(path) {
  for (const r of routes) {
    const m = r.regex.exec(path);
    if (m) {
      const params = {};
      r.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
      return { r, params };
    }
  }
  return null;
}

export class Router {
  constructor(root, nav, { notFound }) {
    this.root = root;
    this.nav = nav;
    this.notFound = notFound;
    this.cleanup = null;
    this.token = 0;
  }

  start() {
    this.buildNav();
    window.addEventListener("hashchange", () => this.show());
    this.show();
  }

  buildNav() {
    this.nav.replaceChildren();
    for (const r of [...routes].filter((r) => r.nav).sort((a, b) => a.order - b.order)) {
      const a = document.createElement("a");
      a.href = r.href;
      a.textContent = r.nav;
      a.dataset.route = r.pattern;
      this.nav.append(a);
    }
  }

  /** Render the page for the current hash, after tearing down the previous one. */
  show() {
    this.replaced = false;
    const path = currentPath();
    const found = match(path);
    if (typeof this.cleanup === "function") {
      try { this.cleanup(); } catch (e) { console.error(e); }
    }
    this.cleanup = null;
    for (const a of this.nav.children) {
      a.toggleAttribute("aria-current", found?.r.pattern === a.dataset.route);
      if (a.hasAttribute("aria-current")) a.setAttribute("aria-current", "page");
    }
    // Each page gets a fresh container, so a slow async render of a page the user
    // already left writes into a detached element instead of the current page.
    const view = document.createElement("div");
    view.className = "view";
    this.root.replaceChildren(view);
    window.scrollTo(0, 0);
    const token = ++this.token;
    const out = found ? found.r.render(view, found.params) : this.notFound(view, path);
    Promise.resolve(out).then((fn) => {
      if (token === this.token) this.cleanup = fn;
      else if (typeof fn === "function") fn();
    }, (e) => {
      if (e?.name === "AuthError" || token !== this.token) return;
      const p = document.createElement("p");
      p.className = "error";
      p.textContent = `This page could not load: ${e?.message || e}`;
      view.append(p);
    });
  }

  /** Re-render the current page (after signing in, for instance). */
  refresh() { this.show(); }

  /** Tear down the current page and show `render(view)` instead (the sign-in state). */
  replace(render) {
    if (this.replaced) return;
    this.replaced = true;
    if (typeof this.cleanup === "function") {
      try { this.cleanup(); } catch (e) { console.error(e); }
    }
    this.cleanup = null;
    this.token++;
    const view = document.createElement("div");
    view.className = "view";
    this.root.replaceChildren(view);
    render(view);
  }
}
