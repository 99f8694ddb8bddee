// Submit a job by choosing a file: the hub sniffs it as `forge jobs submit FILE` does (a JSON
// job or payload, a JSPLIB instance, an MPS/LP model), says what it took the file for before
// anything is queued, and refuses a bad file with its own message (the line, for a model).

import { adminPost, withAdmin } from "./admin.js";
import { h, setText } from "./dom.js";
import { batchHref, jobHref } from "./jobs.js";

const MAX_FILE_BYTES = 16 * 1024 * 1024;

/** The "Submit a file" panel; `types` are the hub's job types, `onSubmitted()` reloads the queue. */
export function uploadPanel(onSubmitted) {
  const file = h("input", { type: "file", "aria-label": "Job file", accept: ".json,.mps,.lp,.txt,.jss,text/plain,application/json" });
  const type = h("select", { "aria-label": "Job type" }, h("option", { value: "" }, "Type: from the file"));
  const priority = h("input", { type: "number", min: "-1000", max: "1000", step: "1", value: "0", class: "priority",
                                "aria-label": "Priority", title: "Priority: higher runs first" });
  const submit = h("button", { type: "button", class: "primary", disabled: true }, "Submit");
  const seen = h("p", { class: "upload-seen", role: "status" });
  const msg = h("p", { class: "action-msg", role: "status" });
  const signIn = h("div", { hidden: true });
  const el = h("section", { class: "panel wide upload-panel", hidden: true },
    h("h2", {}, h("span", {}, "Submit a file")),
    h("p", { class: "muted small" }, "A JSON job or payload, a JSPLIB instance, or an .mps / .lp model: "
      + "the hub says what it takes the file for before you submit."),
    h("div", { class: "upload-form" }, file, type, priority, submit), seen, signIn, msg);
  let text = null;

  const body = (check) => ({ filename: file.files[0].name, content: text, type: type.value || null,
                             priority: Number(priority.value || 0), check });

  function describe(out) {
    const what = [`${file.files[0].name}: ${out.kind}`, `${out.jobs} ${out.type} ${out.jobs === 1 ? "job" : "jobs"}`,
                  out.label ? `“${out.label}”` : null, out.shape].filter(Boolean);
    return what.join(" · ");
  }

  async function check() {
    submit.disabled = true;
    setText(seen, "");
    seen.classList.remove("error");
    setText(msg, "");
    const f = file.files[0];
    if (!f) return;
    if (f.size > MAX_FILE_BYTES) {
      seen.classList.add("error");
      setText(seen, `${f.name} is ${(f.size / 1048576).toFixed(1)} MiB; the hub takes files up to 16 MiB.`);
      return;
    }
    text = await f.text();
    await withAdmin(signIn, msg, async () => {
      try {
        const out = await adminPost("/api/jobs/upload", body(true));
        setText(seen, describe(out));
        setText(msg, "");
        submit.disabled = false;
      } catch (e) {
        if (e.status === 400) {
          seen.classList.add("error");
          setText(seen, e.message);
          setText(msg, "");
          return;
        }
        throw e;
      }
    });
  }

  file.addEventListener("change", check);
  type.addEventListener("change", () => { if (file.files[0]) check(); });
  submit.addEventListener("click", () => withAdmin(signIn, msg, async () => {
    submit.disabled = true;
    const out = await adminPost("/api/jobs/upload", body(false));
    const ids = out.ids || [out.id];
    msg.replaceChildren("Submitted ", out.batch_id
      ? h("a", { href: batchHref(out.batch_id) }, `batch ${out.batch_id} (${ids.length} jobs)`)
      : h("a", { href: jobHref(out.id) }, `job #${out.id}`), ".");
    file.value = "";
    setText(seen, "");
    onSubmitted();
  }));

  return {
    el,
    toggle() { el.hidden = !el.hidden; if (!el.hidden) file.focus(); },
    setTypes(types) {
      const want = types.join("|");
      if (type.dataset.types === want) return;
      type.dataset.types = want;
      const cur = type.value;
      type.replaceChildren(h("option", { value: "" }, "Type: from the file"), ...types.map((t) => h("option", { value: t }, t)));
      type.value = types.includes(cur) ? cur : "";
    },
  };
}
