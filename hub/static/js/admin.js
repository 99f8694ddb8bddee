// The admin sign-in the Add page introduced, shared by every page with admin actions:
// the secret lives for this tab only (sessionStorage), and is sent only to this hub.

import { h } from "./dom.js";

const SECRET_KEY = "forge.adminSecret";

export function savedSecret() {
  try { return sessionStorage.getItem(SECRET_KEY) || ""; } catch { return ""; }
}

export function saveSecret(s) {
  try { if (s) sessionStorage.setItem(SECRET_KEY, s); else sessionStorage.removeItem(SECRET_KEY); } catch { /* this page only */ }
}

export class AdminError extends Error {
  constructor(status, code, message) { super(message); this.name = "AdminError"; this.status = status; this.code = code; }
}

/** POST JSON with the admin secret; errors carry the hub's own code and message. */
export async function adminPost(path, body = {}, secret = savedSecret()) {
  const resp = await fetch(path, {
    method: "POST", cache: "no-store",
    headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: `Bearer ${secret}` },
    body: JSON.stringify(body),
  });
  let out = null;
  try { out = await resp.json(); } catch { /* not JSON */ }
  if (resp.status === 401 || resp.status === 403) {
    saveSecret("");
    throw new AdminError(resp.status, out?.error || "unauthorized",
      `The hub did not accept this admin secret (${out?.message || resp.status}).`);
  }
  if (!resp.ok) throw new AdminError(resp.status, out?.error || "error", out?.message || `the hub answered ${resp.status}`);
  return out;
}

/**
 * A small inline sign-in: a password field and a button. `onSignedIn()` runs once a secret is
 * saved (it is checked by the first action that uses it).
 */
export function adminSignIn(onSignedIn) {
  const input = h("input", { type: "password", autocomplete: "off", placeholder: "Admin secret",
                             "aria-label": "Admin secret", class: "admin-secret" });
  const form = h("form", { class: "admin-signin" },
    h("span", { class: "muted" }, "Actions need the hub's admin secret:"), input,
    h("button", { type: "submit" }, "Sign in"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const s = input.value.trim();
    if (!s) { input.focus(); return; }
    saveSecret(s);
    onSignedIn();
  });
  return form;
}

/**
 * Run an admin action: ask for the secret first when there is none (in `signInHost`), show the
 * hub's refusal in `msg`, and ask again when the secret was refused. `fn()` does the POSTs.
 */
export async function withAdmin(signInHost, msg, fn) {
  const ask = () => {
    signInHost.replaceChildren(adminSignIn(() => { signInHost.hidden = true; withAdmin(signInHost, msg, fn); }));
    signInHost.hidden = false;
    signInHost.querySelector("input").focus();
  };
  if (!savedSecret()) { ask(); return; }
  msg.classList.remove("error");
  msg.textContent = "…";
  try {
    await fn();
  } catch (e) {
    msg.classList.add("error");
    msg.textContent = e.message;
    if (e.status === 401 || e.status === 403) ask();
  }
}
