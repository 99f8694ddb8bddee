// The alerts page: what fires now, the history, and (behind the admin secret) the rules and
// channels editors, with a test button per channel.

import { getJSON } from "./api.js";
import { savedSecret, saveSecret } from "./admin.js";
import { describe, onAlerts, UNITS } from "./alertstate.js";
import { h, setText } from "./dom.js";
import * as fmt from "./format.js";

const METRICS = Object.keys(UNITS);

async function admin(method, path, body) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${savedSecret()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, { method, headers, cache: "no-store",
                                   body: body === undefined ? undefined : JSON.stringify(body) });
  let out = null;
  try { out = await resp.json(); } catch { /* not JSON */ }
  if (resp.status === 401 || resp.status === 403) {
    saveSecret("");
    throw new Error(`The hub did not accept the admin secret (${out?.message || resp.status}).`);
  }
  if (!resp.ok) throw new Error(out?.message || `${path} answered ${resp.status}`);
  return out;
}

function nodeLink(id) {
  return h("a", { href: `#/node/${encodeURIComponent(id)}` }, id);
}

function table(cls, heads, rows) {
  return h("div", { class: "table-wrap" }, h("table", { class: `jobs-table ${cls}` },
    h("thead", {}, h("tr", {}, ...heads.map((x) => h("th", {}, x)))), h("tbody", {}, ...rows)));
}

function badge(a) {
  return h("span", { class: "alert-badge", dataset: { severity: a.severity, state: a.state } },
    a.state === "resolved" ? "resolved" : a.state === "paused" ? "paused" : a.severity);
}

function alertRow(a, now) {
  const took = (a.resolved_at ?? now) - a.started_at;
  return h("tr", { dataset: { alert: a.id } },
    h("td", {}, badge(a)), h("td", {}, a.rule_name), h("td", {}, nodeLink(a.node_id)), h("td", {}, describe(a)),
    h("td", {}, fmt.dateTime(a.started_at)), h("td", { class: "num" }, fmt.duration(took)));
}

export function renderAlerts(view) {
  const firingBox = h("div", {});
  const historyBox = h("div", {});
  const adminBox = h("div", {});
  view.append(
    h("div", { class: "toolbar" }, h("h1", {}, "Alerts")),
    h("section", { class: "alerts-section", "aria-labelledby": "firing-h" }, h("h2", { id: "firing-h" }, "Firing now"), firingBox),
    h("section", { class: "alerts-section", "aria-labelledby": "rules-h" }, h("h2", { id: "rules-h" }, "Rules and channels"), adminBox),
    h("section", { class: "alerts-section", "aria-labelledby": "history-h" }, h("h2", { id: "history-h" }, "History"), historyBox));

  const off = onAlerts((open) => {
    const now = Date.now() / 1000;
    firingBox.replaceChildren(open.length
      ? table("firing-table", ["", "Rule", "Node", "Value", "Since", "For"], open.map((a) => alertRow(a, now)))
      : h("p", { class: "muted" }, "Nothing is firing."));
    loadHistory();
  });

  async function loadHistory() {
    try {
      const body = await getJSON("/api/alerts?limit=100");
      const now = Date.now() / 1000;
      historyBox.replaceChildren(body.alerts.length
        ? table("history-table", ["", "Rule", "Node", "Value", "Started", "Lasted"], body.alerts.map((a) => alertRow(a, now)))
        : h("p", { class: "muted" }, "No alert yet. History is kept 90 days."));
    } catch (e) {
      if (e.name !== "AuthError") historyBox.replaceChildren(h("p", { class: "error" }, e.message));
    }
  }

  const editors = new Editors(adminBox);
  editors.show();
  return () => off();
}

class Editors {
  constructor(box) {
    this.box = box;
    this.rules = [];
    this.channels = [];
    this.editing = null;
  }

  async show() {
    const rules = await getJSON("/api/alert-rules");
    this.rules = rules.rules;
    if (!savedSecret()) { this.signIn(); return; }
    try {
      this.channels = (await admin("GET", "/api/channels")).channels;
    } catch (e) {
      this.signIn(e.message);
      return;
    }
    this.render();
  }

  signIn(message) {
    const input = h("input", { type: "password", id: "alerts-admin-secret", autocomplete: "off", placeholder: "Admin secret" });
    const form = h("form", { class: "join-form" }, h("label", { for: "alerts-admin-secret" }, "Admin secret"), input,
      h("button", { type: "submit" }, "Sign in to edit"));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (!input.value.trim()) return;
      saveSecret(input.value.trim());
      this.show();
    });
    this.box.replaceChildren(
      this.rulesTable(false),
      h("p", { class: "muted small" }, "Rules and channels are edited with the hub's admin secret (kept in this tab only)."),
      message ? h("p", { class: "error", role: "alert" }, message) : null, form);
  }

  rulesTable(editable) {
    const name = (id) => this.channels.find((c) => c.id === id)?.name ?? `#${id}`;
    return table("rules-table", ["Rule", "Condition", "Nodes", "Severity", "Channels", "On", ""], this.rules.map((r) =>
      h("tr", { dataset: { rule: r.id } },
        h("td", {}, r.name),
        h("td", {}, r.metric === "reboot" ? "reboot" : `${r.metric} ${r.op} ${r.threshold} ${UNITS[r.metric] ?? ""}`
          + (r.for_s ? ` for ${fmt.duration(r.for_s)}` : "")),
        h("td", {}, r.nodes.join(", ")), h("td", {}, r.severity),
        h("td", {}, r.channels.length ? r.channels.map(name).join(", ") : h("span", { class: "muted" }, "none")),
        h("td", {}, r.enabled ? "yes" : "no"),
        h("td", {}, editable ? [
          h("button", { type: "button", onclick: () => { this.editing = r; this.render(); } }, "Edit"), " ",
          h("button", { type: "button", onclick: () => this.act(() => admin("DELETE", `/api/alert-rules/${r.id}`)) }, "Delete"),
        ] : null))));
  }

  async act(fn) {
    try {
      await fn();
      this.editing = null;
      await this.show();
    } catch (e) {
      this.error(e.message);
    }
  }

  error(message) {
    setText(this.errorEl, message);
    this.errorEl.hidden = !message;
  }

  render() {
    this.errorEl = h("p", { class: "error", role: "alert", hidden: true });
    this.box.replaceChildren(this.rulesTable(true), this.ruleForm(), this.errorEl,
      h("h3", {}, "Channels"), this.channelList(), this.channelForm());
  }

  ruleForm() {
    const r = this.editing || { name: "", metric: "offline", op: ">", threshold: 300, for_s: 0, nodes: ["*"],
                                severity: "warning", channels: [], enabled: true };
    const field = (label, input) => h("label", { class: "field" }, h("span", {}, label), input);
    const name = h("input", { name: "name", required: true, value: r.name });
    const metric = h("select", { name: "metric" }, ...METRICS.map((m) => h("option", { value: m, selected: m === r.metric }, m)));
    const op = h("select", { name: "op" }, ...[">", "<"].map((o) => h("option", { value: o, selected: o === r.op }, o)));
    const threshold = h("input", { name: "threshold", type: "number", step: "any", value: r.threshold });
    const forS = h("input", { name: "for_s", type: "number", min: 0, step: "any", value: r.for_s });
    const nodes = h("input", { name: "nodes", value: r.nodes.join(", "), placeholder: "* or node ids" });
    const severity = h("select", { name: "severity" },
      ...["warning", "critical"].map((s) => h("option", { value: s, selected: s === r.severity }, s)));
    const enabled = h("input", { name: "enabled", type: "checkbox", checked: r.enabled });
    const chans = this.channels.map((c) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "channel", value: c.id, checked: r.channels.includes(c.id) }), c.name));
    const form = h("form", { class: "rule-form", "aria-label": this.editing ? `Edit rule ${r.name}` : "New rule" },
      h("h3", {}, this.editing ? `Edit “${r.name}”` : "New rule"),
      h("div", { class: "fields" }, field("Name", name), field("Metric", metric), field("Op", op),
        field("Threshold", threshold), field("For (s)", forS), field("Nodes", nodes), field("Severity", severity),
        field("Enabled", enabled)),
      chans.length ? h("div", { class: "fields" }, h("span", { class: "muted" }, "Notify:"), ...chans)
        : h("p", { class: "muted small" }, "Add a channel below to be notified."),
      h("button", { type: "submit" }, this.editing ? "Save rule" : "Add rule"),
      this.editing ? h("button", { type: "button", onclick: () => { this.editing = null; this.render(); } }, "Cancel") : null);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const body = {
        name: name.value.trim(), metric: metric.value, op: op.value, threshold: Number(threshold.value),
        for_s: Number(forS.value), nodes: nodes.value.split(",").map((s) => s.trim()).filter(Boolean),
        severity: severity.value, enabled: enabled.checked,
        channels: [...form.querySelectorAll("input[name=channel]:checked")].map((i) => Number(i.value)),
      };
      const id = this.editing?.id;
      this.act(() => (id ? admin("PUT", `/api/alert-rules/${id}`, body) : admin("POST", "/api/alert-rules", body)));
    });
    return form;
  }

  channelList() {
    if (!this.channels.length) return h("p", { class: "muted" }, "No channel yet: alerts show here, in the tray and the fleet window only.");
    return table("channels-table", ["Channel", "URL", "Last sent", "Last error", ""], this.channels.map((c) => {
      const result = h("span", { class: "test-result", role: "status" });
      const test = h("button", { type: "button" }, "Test");
      test.addEventListener("click", async () => {
        setText(result, "sending…");
        try {
          const out = await admin("POST", `/api/channels/${c.id}/test`);
          setText(result, out.ok ? "sent" : `failed: ${out.error}`);
          result.className = out.ok ? "test-result ok" : "test-result error";
        } catch (e) {
          setText(result, e.message);
        }
      });
      return h("tr", { dataset: { channel: c.id } }, h("td", {}, c.name), h("td", {}, h("code", {}, c.url)),
        h("td", {}, c.last_sent_at ? fmt.dateTime(c.last_sent_at) : "never"),
        h("td", { class: c.last_error ? "error" : "muted" }, c.last_error || "none"),
        h("td", {}, test, " ", h("button", { type: "button",
          onclick: () => this.act(() => admin("DELETE", `/api/channels/${c.id}`)) }, "Delete"), " ", result));
    }));
  }

  channelForm() {
    const name = h("input", { name: "channel-name", required: true, placeholder: "e.g. phone" });
    const url = h("input", { name: "channel-url", required: true, size: 48,
                             placeholder: "ntfy://topic, discord://…, mailto://…, json://host/path" });
    const form = h("form", { class: "channel-form", "aria-label": "New channel" },
      h("label", { class: "field" }, h("span", {}, "Name"), name),
      h("label", { class: "field" }, h("span", {}, "Apprise URL"), url),
      h("button", { type: "submit" }, "Add channel"),
      h("p", { class: "muted small" }, "Any ", h("a", { href: "https://github.com/caronc/apprise/wiki", target: "_blank",
        rel: "noopener" }, "Apprise URL"), ". The hub stores it sealed and shows it masked."));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.act(() => admin("POST", "/api/channels", { name: name.value.trim(), url: url.value.trim() }));
    });
    return form;
  }
}
