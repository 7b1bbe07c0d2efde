// The console's audit section: the latest changes made by operators and the admin token in the three
// services (GET /v1/audit), newest first, each with who made it, the call, and what it changed. Shown
// to whoever may read the log (an admin); hidden for anyone else. console.js says when the console is
// signed in (with its `api` function) and signed out.
import { t } from "./console-i18n.js";

const SHOWN = 50; // the latest entries listed
const PAGE = 1000; // the most GET /v1/audit answers at once
const POLL_MS = 10000; // changes are rare: a few seconds late is soon enough

const $ = (id) => document.getElementById(id);
let latest = []; // oldest first, at most SHOWN
let cursor = 0; // the `after` of the next page
let timer = null;
let session = 0; // bumped on every sign-in and sign-out: a late answer of an earlier one is dropped

function cell(text, attrs = {}) {
  const td = document.createElement("td");
  for (const [k, v] of Object.entries(attrs)) td.setAttribute(k, v);
  td.textContent = text;
  return td;
}

function shown(value) {
  return value === undefined ? "—" : JSON.stringify(value);
}

// "field: before → after" for each field that differs, nested fields by their dotted path.
export function changes(before, after, path = "") {
  if (before === null && after !== null && path === "") return [t("audit.created")];
  if (after === null && before !== null && path === "") return [t("audit.deleted")];
  const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => changes(before[k], after[k], path ? `${path}.${k}` : k));
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [`${path}: ${shown(before)} → ${shown(after)}`];
}

function render() {
  const rows = [...latest].reverse().map((entry) => {
    const tr = document.createElement("tr");
    tr.dataset.auditId = String(entry.id);
    tr.append(
      cell(new Date(entry.at).toLocaleString()),
      cell(entry.actor, { class: "actor" }),
      cell(entry.action, { class: "action" }),
      cell(changes(entry.before, entry.after).join("; "), { class: "change" }),
    );
    return tr;
  });
  $("audit").querySelector("tbody").replaceChildren(...rows);
  $("audit").hidden = rows.length === 0;
  $("no-audit").hidden = rows.length > 0;
}

async function catchUp(api, mine) {
  for (;;) {
    const page = await api("GET", `/v1/audit?after=${cursor}&limit=${PAGE}`);
    if (mine !== session) return;
    latest = [...latest, ...page.entries].slice(-SHOWN);
    cursor = page.next_after;
    if (page.entries.length < PAGE) break;
  }
  render();
}

async function poll(api, mine) {
  try {
    await catchUp(api, mine);
    if (mine !== session) return;
    $("audit-section").hidden = false;
    $("audit-error").textContent = "";
  } catch (error) {
    if (mine !== session) return;
    if (error.status === 403) {
      $("audit-section").hidden = true; // not an admin: the log is not theirs to read
      return;
    }
    $("audit-error").textContent = t("audit.cannotLoad", { error: error.message });
  }
  timer = setTimeout(() => poll(api, mine), POLL_MS);
}

document.addEventListener("console:signed-in", (event) => {
  clearTimeout(timer);
  session += 1;
  latest = [];
  cursor = 0;
  poll(event.detail.api, session);
});

document.addEventListener("console:signed-out", () => {
  clearTimeout(timer);
  session += 1;
  latest = [];
  cursor = 0;
  $("audit-section").hidden = true;
});
