// Human units for the dashboard: every number a person reads goes through here.

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
const RATE_UNITS = ["B/s", "KB/s", "MB/s", "GB/s", "TB/s"];

/** Binary-prefixed size, e.g. 8.0 GiB. */
export function bytes(v) {
  if (v == null || !Number.isFinite(v)) return "–";
  let i = 0;
  while (Math.abs(v) >= 1024 && i < BYTE_UNITS.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(i === 0 ? 0 : v < 10 ? 1 : 0)} ${BYTE_UNITS[i]}`;
}

/** Decimal-prefixed transfer rate, e.g. 1.2 MB/s (as network tools show it). */
export function rate(v) {
  if (v == null || !Number.isFinite(v)) return "–";
  let i = 0;
  while (Math.abs(v) >= 1000 && i < RATE_UNITS.length - 1) { v /= 1000; i++; }
  return `${v.toFixed(i === 0 ? 0 : v < 10 ? 1 : 0)} ${RATE_UNITS[i]}`;
}

export function pct(v, digits = 0) {
  return v == null || !Number.isFinite(v) ? "–" : `${v.toFixed(digits)} %`;
}

/** A temperature the machine did not report reads "unavailable", never a dash or 0. */
export function temp(v) {
  return v == null || !Number.isFinite(v) ? "unavailable" : `${Math.round(v)} °C`;
}

export function mhz(v) {
  if (v == null || !Number.isFinite(v)) return "–";
  return v >= 1000 ? `${(v / 1000).toFixed(2)} GHz` : `${Math.round(v)} MHz`;
}

export function num(v, digits = 2) {
  return v == null || !Number.isFinite(v) ? "–" : v.toFixed(digits);
}

/** Compact duration: 45 s, 12 min, 3 h 5 min, 4 d 2 h. */
export function duration(s) {
  if (s == null || !Number.isFinite(s)) return "–";
  s = Math.max(0, Math.floor(s));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} min`;
  const d = Math.floor(h / 24);
  return `${d} d ${h % 24} h`;
}

/** "just now" / "12 s ago" / "3 min ago", coarse enough that the text rarely changes. */
export function ago(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return "never";
  if (seconds < 2) return "just now";
  return `${duration(seconds)} ago`;
}

// Built on first use: the first Intl object of a page loads ICU's data (50–150 ms), which the
// fleet's first paint does not need.
let DATE_TIME = null;

export function dateTime(ts) {
  DATE_TIME ??= new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
  return ts == null ? "–" : DATE_TIME.format(new Date(ts * 1000));
}

let COLLATOR = null;
const CHUNKS = /(\d+)|(\D+)/g;

/**
 * Natural order ("node-2" before "node-10"), as Intl.Collator with `numeric` orders it. Names
 * that differ only in their numbers ("sim-007", "sim-012") are ordered without the collator,
 * so a fleet of numbered nodes sorts without loading ICU; any other difference asks it.
 */
export function naturalCompare(a, b) {
  if (a === b) return 0;
  const x = a.match(CHUNKS) || [], y = b.match(CHUNKS) || [];
  for (let i = 0; i < x.length && i < y.length; i++) {
    if (x[i] === y[i]) continue;
    const dx = x[i].charCodeAt(0) <= 57 && x[i].charCodeAt(0) >= 48, dy = y[i].charCodeAt(0) <= 57 && y[i].charCodeAt(0) >= 48;
    if (dx && dy && Number(x[i]) !== Number(y[i]) && x[i].length < 16 && y[i].length < 16) return Number(x[i]) - Number(y[i]);
    break;
  }
  COLLATOR ??= new Intl.Collator(undefined, { numeric: true });
  return COLLATOR.compare(a, b);
}

export function clockTime(ts) {
  return new Date(ts * 1000).toLocaleTimeString(undefined, { hour12: false });
}

const pad2 = (n) => String(n).padStart(2, "0");

/** "07:14" today, "Mon 30 07:14" this week, "30 Nov 2026 07:14" before: when something last happened. */
export function sinceTime(ts, nowS = Date.now() / 1000) {
  if (ts == null || !Number.isFinite(ts)) return "never";
  const d = new Date(ts * 1000), n = new Date(nowS * 1000);
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  if (d.toDateString() === n.toDateString()) return hm;
  if (nowS - ts < 6 * 86400) return `${d.toLocaleDateString(undefined, { weekday: "short", day: "numeric" })} ${hm}`;
  return `${d.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" })} ${hm}`;
}

/** The OS as people name it: "macOS 14.4" (not "Darwin 23.4.0"), "Windows 11", "Linux 6.1". */
export function friendlyOS(os, version) {
  const v = String(version || "");
  const parts = v.split(".").map((x) => parseInt(x, 10));
  if (os === "Darwin" || os === "macOS") {
    // A Darwin kernel release 20–24 is macOS 11–15 (minor for minor); macOS itself never used those numbers.
    if (parts[0] >= 20 && parts[0] <= 24) return `macOS ${parts[0] - 9}${Number.isFinite(parts[1]) ? `.${parts[1]}` : ""}`;
    return v ? `macOS ${parts.slice(0, 2).filter(Number.isFinite).join(".")}` : "macOS";
  }
  if (os === "Windows") {
    if (parts[0] === 10 && parts[2] >= 22000) return "Windows 11";
    if (parts[0] === 10 && Number.isFinite(parts[2])) return "Windows 10";
    return v ? `Windows ${parts[0] || v}` : "Windows";
  }
  if (os === "Linux") return Number.isFinite(parts[0]) ? `Linux ${parts.slice(0, 2).filter(Number.isFinite).join(".")}` : "Linux";
  return [os, v].filter(Boolean).join(" ") || "unknown OS";
}

const ARCH = { x86_64: "x86-64", amd64: "x86-64", AMD64: "x86-64", x64: "x86-64", i386: "x86", i686: "x86", x86: "x86",
               arm64: "arm64", aarch64: "arm64", ARM64: "arm64", armv7l: "arm32", armv6l: "arm32" };

/** One architecture vocabulary whatever the OS calls it: x86-64, arm64, x86, arm32. */
export function arch(a) {
  return a ? ARCH[a] || a : "";
}

/** "warn" / "bad" for a reading past its amber / red threshold, else "". */
export function level(v, warn, bad) {
  if (v == null || !Number.isFinite(v)) return "";
  return v >= bad ? "bad" : v >= warn ? "warn" : "";
}
