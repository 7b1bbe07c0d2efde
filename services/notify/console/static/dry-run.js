// A campaign's dry run in the console: what it would have done over the last days of stored history,
// said in one sentence. notify replays the history (POST /v1/campaigns/dry-run): nothing is sent,
// queued or logged. Loaded by console.js when an operator first asks for one.

const DAYS = 7;
const DAY_MS = 86_400_000;

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

// "over the last 7 days this would have entered 12 devices and sent 5 messages, 7 suppressed
// (frequency cap 3, quiet hours 1, out of stock 3)"
export function sentence(result) {
  const days = Math.round((Date.parse(result.until) - Date.parse(result.since)) / DAY_MS);
  const reasons = Object.entries(result.suppressed || {});
  const suppressed = reasons.reduce((sum, [, n]) => sum + n, 0);
  const why = reasons.map(([reason, n]) => `${reason.replaceAll("_", " ")} ${n}`).join(", ");
  return (
    `over the last ${plural(days, "day")} this would have entered ${plural(result.devices, "device")} ` +
    `and sent ${plural(result.messages, "message")}, ${suppressed} suppressed${why ? ` (${why})` : ""}`
  );
}

// The sentence goes under the campaigns table, where the page's polling (which redraws the table)
// leaves it alone.
function output() {
  let box = document.getElementById("dry-run");
  if (!box) {
    box = document.createElement("p");
    box.id = "dry-run";
    box.className = "dry-run";
    box.setAttribute("role", "status");
    document.getElementById("campaign-error").before(box);
  }
  return box;
}

// `api(method, path, body)` is the console's own call with its token. The campaign is read afresh and
// dry-run as if it were live (a paused one too: what resuming it would do).
export async function dryRun(campaignId, api, button) {
  const box = output();
  box.dataset.campaign = campaignId;
  box.textContent = `${campaignId}: dry run…`;
  button.disabled = true;
  try {
    const campaign = await api("GET", `/v1/campaigns/${encodeURIComponent(campaignId)}`);
    const body = { trigger: campaign.trigger, sku: campaign.sku, message: campaign.message, active: true, days: DAYS };
    if (campaign.schedule) body.schedule = campaign.schedule;
    const result = await api("POST", "/v1/campaigns/dry-run", body);
    box.textContent = `${campaignId}: ${sentence(result)}.`;
  } catch (error) {
    box.textContent = `${campaignId}: the dry run failed: ${error.message}`;
  } finally {
    button.disabled = false;
  }
}
