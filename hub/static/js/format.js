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

const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function dateTime(ts) {
  return ts == null ? "–" : DATE_TIME.format(new Date(ts * 1000));
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
