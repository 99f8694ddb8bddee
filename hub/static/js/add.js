// "Add a machine": a one-time join code, the exact commands per OS with copy buttons,
// and the agent builds this hub offers for download.

import { savedSecret, saveSecret } from "./admin.js";
import { getJSON } from "./api.js";
import { h, setText } from "./dom.js";
import * as fmt from "./format.js";

const PLACEHOLDER = "CODE";
const OSES = [
  { key: "linux", name: "Linux", shell: "Terminal", exe: "forge" },
  { key: "macos", name: "macOS", shell: "Terminal", exe: "forge" },
  { key: "windows", name: "Windows", shell: "PowerShell", exe: "forge.exe" },
];
const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);
const JOIN_WATCH_MS = 3000;


/** POST /api/tokens for a join code; errors carry the hub's own message. */
async function createJoinCode(secret, ttlMinutes) {
  const resp = await fetch("/api/tokens", {
    method: "POST", cache: "no-store",
    headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: `Bearer ${secret}` },
    body: JSON.stringify({ join: true, ttl_minutes: ttlMinutes }),
  });
  let body = null;
  try { body = await resp.json(); } catch { /* not JSON */ }
  if (resp.status === 401 || resp.status === 403) {
    throw new Error(`The hub did not accept this admin secret (${body?.message || resp.status}). `
      + "It is the ADMIN_SECRET the hub was started with (a local hub keeps it in its data folder).");
  }
  if (!resp.ok) throw new Error(body?.message || `the hub answered ${resp.status}`);
  return body;
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No Clipboard API outside secure contexts (a hub on http://<lan-name>): the old way.
    const area = h("textarea", { class: "offscreen", readonly: true });
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch { ok = false; }
    area.remove();
    return ok;
  }
}

function copyButton(getText, label) {
  const btn = h("button", { type: "button", class: "copy", "aria-label": label }, "Copy");
  let timer = 0;
  btn.addEventListener("click", async () => {
    const ok = await copyText(getText());
    setText(btn, ok ? "Copied" : "Select and copy");
    btn.classList.toggle("done", ok);
    clearTimeout(timer);
    timer = setTimeout(() => { setText(btn, "Copy"); btn.classList.remove("done"); }, 1600);
  });
  return btn;
}

/** A command line with its copy button; `set(text)` changes it in place. */
function commandLine(comment) {
  const code = h("code", { class: "cmd-text" });
  const el = h("div", { class: "cmd" }, code, copyButton(() => code.textContent, `Copy: ${comment}`),
    h("span", { class: "cmd-note muted" }, comment));
  return { el, set: (text) => setText(code, text) };
}

function countdown(seconds) {
  if (seconds <= 0) return "expired";
  const s = Math.floor(seconds);
  const m = Math.floor(s / 60);
  if (m >= 60) return `${Math.floor(m / 60)} h ${m % 60} min left`;
  return `${m}:${String(s % 60).padStart(2, "0")} left`;
}

export function renderAdd(view) {
  let code = null;
  let expiresAt = 0;
  let createdAt = 0;
  let clockOffset = 0;
  let knownNodes = null;

  // --- 1: the join code ------------------------------------------------------------
  const secret = h("input", { type: "password", id: "admin-secret", autocomplete: "off", placeholder: "Admin secret",
                              value: savedSecret() });
  const ttl = h("select", { id: "join-ttl", "aria-label": "Code valid for" },
    h("option", { value: "15" }, "valid 15 min"), h("option", { value: "60" }, "valid 1 h"),
    h("option", { value: "1440" }, "valid 24 h"));
  const create = h("button", { type: "submit", class: "primary" }, "Create join code");
  const formError = h("p", { class: "error", role: "alert", hidden: true });
  const codeText = h("code", { class: "join-code", id: "join-code" });
  const expiry = h("span", { class: "join-expiry", "aria-live": "polite" });
  const codeBox = h("div", { class: "join-code-box", hidden: true },
    codeText, copyButton(() => codeText.textContent, "Copy the join code"), expiry);
  const joined = h("p", { class: "joined", "aria-live": "polite", hidden: true });
  const waitingNote = h("p", { class: "join-wait", hidden: true }, h("span", { class: "spinner", "aria-hidden": "true" }),
    "Waiting for a machine to join with this code… (this page watches the fleet)");
  const form = h("form", { class: "join-form" },
    h("label", { for: "admin-secret" }, "Admin secret"), secret, ttl, create);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const s = secret.value.trim();
    if (!s) { showError("Enter the hub's admin secret first."); secret.focus(); return; }
    create.disabled = true;
    try {
      const body = await createJoinCode(s, Number(ttl.value));
      saveSecret(s);
      formError.hidden = true;
      code = body.code;
      expiresAt = body.expires_at;
      createdAt = Date.now() / 1000 + clockOffset;
      setText(codeText, code);
      codeBox.hidden = false;
      joined.hidden = true;
      waitingNote.hidden = false;
      tick();
      updateCommands();
      knownNodes = null;
      watchJoins();
    } catch (e) {
      showError(e.message);
    } finally {
      create.disabled = false;
    }
  });

  function showError(msg) {
    setText(formError, msg);
    formError.hidden = false;
  }

  // --- 2: the hub address other machines use -------------------------------------
  const address = h("input", { type: "url", id: "hub-address", value: location.origin, spellcheck: "false" });
  const addressNote = h("p", { class: "muted small", hidden: true });
  let addressEdited = false;
  address.addEventListener("input", () => { addressEdited = true; updateCommands(); });

  // --- 3: commands and downloads per OS ------------------------------------------
  const cards = OSES.map((os) => {
    const join = commandLine("join this hub (once)");
    const agent = commandLine("a server: monitor and run jobs, no window");
    const desktop = commandLine("or a desktop: the tray app, jobs only while idle");
    const files = h("ul", { class: "downloads" });
    const el = h("section", { class: "panel os-card", dataset: { os: os.key } },
      h("h2", {}, h("span", {}, os.name), h("span", { class: "panel-extra" }, os.shell)),
      h("div", { class: "download-list" }, files),
      join.el, agent.el, desktop.el);
    return { os, join, agent, desktop, files, el };
  });
  const pip = { install: commandLine("any OS with Python 3.11+"), join: commandLine("join this hub (once)"),
                agent: commandLine("then run the agent (or: forge desktop)") };
  const downloadsNote = h("p", { class: "muted small", hidden: true });

  function origin() {
    return (address.value.trim() || location.origin).replace(/\/+$/, "");
  }

  function updateCommands() {
    const c = code || PLACEHOLDER;
    const o = origin();
    for (const card of cards) {
      card.join.set(`${card.os.exe} join ${o} ${c}`);
      card.agent.set(`${card.os.exe} agent`);
      card.desktop.set(`${card.os.exe} desktop`);
    }
    pip.install.set("pip install forge-monitor");
    pip.join.set(`forge join ${o} ${c}`);
    pip.agent.set("forge agent");
    view.classList.toggle("has-code", Boolean(code));
  }

  function tick() {
    if (!code) return;
    const left = expiresAt - (Date.now() / 1000 + clockOffset);
    setText(expiry, left > 0 ? `one use · ${countdown(left)} (until ${fmt.clockTime(expiresAt)})` : "expired: create a new one");
    codeBox.classList.toggle("expired", left <= 0);
  }

  /** After a code is made, name the machines that appear in the fleet (the code's whole point). */
  async function watchJoins() {
    try {
      const fleet = await getJSON("/api/fleet");
      clockOffset = fleet.now - Date.now() / 1000;
      const fresh = fleet.nodes.filter((n) => n.first_seen >= createdAt - 5);
      if (knownNodes === null) knownNodes = new Set(fleet.nodes.filter((n) => !fresh.includes(n)).map((n) => n.id));
      const arrived = fleet.nodes.filter((n) => !knownNodes.has(n.id));
      if (arrived.length) {
        waitingNote.hidden = true;
        joined.replaceChildren(...arrived.flatMap((n, i) => [i ? "; " : "",
          h("a", { href: `#/node/${encodeURIComponent(n.id)}` }, n.name || n.id),
          ` joined at ${fmt.clockTime(n.first_seen)} (${fmt.duration(Math.max(0, n.first_seen - createdAt))} after the code was made)`]),
          ".");
        joined.hidden = false;
      }
    } catch { /* try again next time */ }
  }

  async function loadDownloads() {
    let files = [];
    try { files = (await getJSON("/api/downloads")).files || []; } catch { /* shown as "no builds" */ }
    for (const card of cards) {
      const mine = files.filter((f) => f.os === card.os.key);
      card.files.replaceChildren(...mine.map((f) => h("li", {},
        h("a", { href: f.url, download: f.name, class: "download" }, f.name), h("span", { class: "muted" }, ` ${fmt.bytes(f.size)}`))));
      card.files.parentElement.hidden = !mine.length;
    }
    downloadsNote.hidden = files.length > 0;
    if (!files.length) {
      downloadsNote.replaceChildren("This hub offers no builds to download. Put the release files (the Linux tarball, ",
        "the Windows setup, the macOS zip) in a folder and start the hub with ",
        h("code", {}, "forge hub --downloads DIR"), "; until then, install from Python as below.");
    }
  }

  async function loadHealth() {
    try {
      const health = await getJSON("/api/health");
      if (LOOPBACK.has(location.hostname) && health.loopback_only) {
        addressNote.replaceChildren("This hub listens on a loopback address only, so no other machine can reach it ",
          "by any name. Start it with ", h("code", {}, "forge hub --host 0.0.0.0"),
          " (or its LAN or Tailscale address) to add other machines; this machine can join as shown.");
        addressNote.hidden = false;
      } else if (LOOPBACK.has(location.hostname) && health.hostname) {
        // Other machines cannot reach a loopback address: the commands use the hub's own name instead.
        const named = `${location.protocol}//${health.hostname}${location.port ? `:${location.port}` : ""}`;
        if (!addressEdited) { address.value = named; updateCommands(); }
        addressNote.replaceChildren("This page is open on a loopback address (", h("code", {}, location.origin),
          "), which other machines cannot reach, so the commands use this hub's machine name, ", h("code", {}, named),
          ". Change it if they know the hub by another name (its LAN or Tailscale name).");
        addressNote.hidden = false;
      }
    } catch { /* the note is only a hint */ }
  }

  view.append(
    h("div", { class: "toolbar" }, h("h1", {}, "Add a machine")),
    h("p", { class: "muted lead" }, "A join code lets one new machine join this fleet: ",
      h("code", {}, "forge join"), " trades it for the machine's own token, kept in its OS keyring. ",
      "The code works once and expires."),
    h("div", { class: "panels add-steps" },
      h("section", { class: "panel" }, h("h2", {}, h("span", {}, "1. Create a join code")),
        form, h("p", { class: "muted small" }, "The secret stays in this browser tab only (session storage)."),
        formError, codeBox, waitingNote, joined),
      h("section", { class: "panel" }, h("h2", {}, h("span", {}, "2. The hub's address")),
        h("label", { for: "hub-address" }, "Address the new machine uses to reach this hub"), address, addressNote)),
    h("h2", { class: "section-title" }, "3. On the new machine"),
    downloadsNote,
    h("div", { class: "os-grid" }, ...cards.map((c) => c.el)),
    h("section", { class: "panel os-card", dataset: { os: "python" } },
      h("h2", {}, h("span", {}, "From Python, any OS"), h("span", { class: "panel-extra" }, "no download")),
      pip.install.el, pip.join.el, pip.agent.el),
    h("p", { class: "muted small" }, "With a downloaded build, run the commands from its folder (",
      h("code", {}, "./forge"), " on Linux and macOS). The new card shows up in the ", h("a", { href: "#/fleet" }, "fleet"),
      " within seconds."));

  updateCommands();
  loadHealth();
  const timer = setInterval(tick, 1000);
  const watcher = setInterval(() => { if (code && !document.hidden) watchJoins(); }, JOIN_WATCH_MS);
  loadDownloads();
  return () => { clearInterval(timer); clearInterval(watcher); };
}
