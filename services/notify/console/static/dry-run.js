// Dry runs in the console: what a campaign or a journey would have done over the last days of stored
// history, said in one sentence, in the console's language. notify replays the history (POST /v1/campaigns/dry-run,
// POST /v1/journeys/dry-run): nothing is sent, queued or logged. Loaded by console.js when an operator
// first asks for one.

import { t } from "./console-i18n.js";

const DAYS = 7;
const DAY_MS = 86_400_000;

const count = (n, word) => t(`dryRun.${word}${n === 1 ? "" : "s"}`, { n });

// "welcome: over the last 7 days this would have entered 12 devices and sent 5 messages, 7 suppressed
// (frequency_cap 3, quiet_hours 1, out_of_stock 3)." Reasons are shown as the API and the message
// log name them, as everywhere in the console.
export function sentence(name, result) {
  const days = Math.round((Date.parse(result.until) - Date.parse(result.since)) / DAY_MS);
  const reasons = Object.entries(result.suppressed || {});
  const suppressed = reasons.reduce((sum, [, n]) => sum + n, 0);
  const why = reasons.length ? ` (${reasons.map(([reason, n]) => `${reason} ${n}`).join(", ")})` : "";
  return t("dryRun.said", {
    name,
    days: count(days, "day"),
    devices: count(result.devices, "device"),
    messages: count(result.messages, "message"),
    suppressed,
    why,
  });
}

// The sentence goes under its section (before `errorId`), where the page's polling, which redraws the
// campaigns and the journeys, leaves it alone.
function output(id, errorId) {
  let box = document.getElementById(id);
  if (!box) {
    box = document.createElement("p");
    box.id = id;
    box.className = "dry-run";
    box.setAttribute("role", "status");
    document.getElementById(errorId).before(box);
  }
  return box;
}

async function run(box, name, button, ask) {
  box.dataset.name = name;
  box.textContent = t("dryRun.running", { name });
  button.disabled = true;
  try {
    box.textContent = sentence(name, await ask());
  } catch (error) {
    box.textContent = t("dryRun.failed", { name, error: error.message });
  } finally {
    button.disabled = false;
  }
}

// `api(method, path, body)` is the console's own call with its token. The campaign is read afresh and
// dry-run as if it were live (a paused one too: what resuming it would do).
export function dryRun(campaignId, api, button) {
  return run(output("dry-run", "campaign-error"), campaignId, button, async () => {
    const campaign = await api("GET", `/v1/campaigns/${encodeURIComponent(campaignId)}`);
    const body = { trigger: campaign.trigger, sku: campaign.sku, message: campaign.message, active: true, days: DAYS };
    if (campaign.schedule) body.schedule = campaign.schedule;
    return api("POST", "/v1/campaigns/dry-run", body);
  });
}

// The journey's current version, as if it were running, each device in the arm it has in it.
export function dryRunJourney(journeyId, api, button) {
  return run(output("journey-dry-run", "journey-error"), journeyId, button, async () => {
    const journey = await api("GET", `/v1/journeys/${encodeURIComponent(journeyId)}`);
    const { version, created_at, updated_at, ended_at, ...document } = journey;
    return api("POST", "/v1/journeys/dry-run", { ...document, active: true, days: DAYS });
  });
}
