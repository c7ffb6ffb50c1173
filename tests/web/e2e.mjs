// End-to-end walk through vigil's web UI in Debian's headless Chromium (driven by
// playwright-core, which never downloads a browser). Prints one JSON report on stdout;
// tests/web/test_e2e.py asserts on it. Screenshots go to $VIGIL_SCREENSHOTS.
//
// env: VIGIL_URL (http://127.0.0.1:PORT), VIGIL_TOKEN (admin API token), VIGIL_SCREENSHOTS (folder),
//      VIGIL_USER_DATA_DIR (fresh profile folder), VIGIL_WHATIF (JSON: field -> value, optional)
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const base = process.env.VIGIL_URL;
const token = process.env.VIGIL_TOKEN;
const shots = process.env.VIGIL_SCREENSHOTS;
const profile = process.env.VIGIL_USER_DATA_DIR;
mkdirSync(shots, { recursive: true });

const report = { console: [], pageErrors: [], steps: {} };
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.VIGIL_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1400, height: 1000 },
  acceptDownloads: true,
});
const page = context.pages()[0] || await context.newPage();
page.setDefaultTimeout(15000);
page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") report.console.push(m.text()); });
page.on("pageerror", (e) => report.pageErrors.push(String(e)));
// Anything leaving 127.0.0.1 would be a CDN or tile request: record and block it.
report.external = [];
await context.route("**/*", (route) => {
  const url = route.request().url();
  if (url.startsWith(base) || url.startsWith("data:")) { return route.continue(); }
  report.external.push(url);
  return route.abort();
});

async function shot(name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

// Text of the first match, or null at once when there is none (no auto-wait).
async function textOrNull(selector) {
  const loc = page.locator(selector);
  return (await loc.count()) ? (await loc.first().textContent()).trim() : null;
}

report.ms = {};
async function step(name, fn) {
  const t0 = Date.now();
  try {
    report.steps[name] = await fn();
  } catch (e) {
    report.steps[name] = { failure: String(e && e.stack || e) };
    try { await shot(`${name}-error`); } catch (_) { /* ignore */ }
  }
  report.ms[name] = Date.now() - t0;
}

await step("signin", async () => {
  const r = await page.goto(`${base}/incidents`);
  const redirectedTo = new URL(page.url()).pathname;
  await shot("01-signin");
  await page.fill("#token", token);
  await Promise.all([page.waitForURL(/\/incidents/), page.click("#signin-submit")]);
  const cookies = await context.cookies();
  const sess = cookies.find((c) => c.name === "vigil_session") || {};
  return { firstStatus: r.status(), redirectedTo, landed: new URL(page.url()).pathname,
           cookie: { httpOnly: sess.httpOnly, sameSite: sess.sameSite, secure: sess.secure } };
});

await step("incidents", async () => {
  await page.waitForSelector("#incidents tbody tr");
  await shot("02-incidents");
  const titles = await page.locator("a.incident-link").allTextContents();
  return { count: titles.length, titles };
});

await step("incident", async () => {
  await page.locator("a.incident-link").first().click();
  await page.waitForSelector("#map[data-drawn-points]");
  await page.waitForFunction(() => document.getElementById("map").getAttribute("data-countries"));
  await page.waitForTimeout(300);
  const map = page.locator("#map");
  const out = {
    url: new URL(page.url()).pathname,
    title: (await page.locator("#incident-title").textContent()).trim(),
    expectedPoints: Number(await map.getAttribute("data-points")),
    expectedLines: Number(await map.getAttribute("data-lines")),
    drawnPoints: await page.locator("#map path.vigil-point").count(),
    corporatePoints: await page.locator("#map path.vigil-point.corporate").count(),
    drawnLines: await page.locator("#map path.vigil-line").count(),
    linesByVerdict: {},
    countries: await map.getAttribute("data-countries"),
    dbipCredits: await page.locator("a[href='https://db-ip.com']").count(),
    locationSources: await page.locator("p.attribution").first().textContent(),
  };
  for (const v of ["egress_change", "plausible", "improbable", "impossible"]) {
    out.linesByVerdict[v] = await page.locator(`#map path.vigil-line.verdict-${v}`).count();
  }
  await shot("03-incident");
  await map.screenshot({ path: join(shots, "03b-incident-map.png") });
  return out;
});

await step("sessionTree", async () => {
  const sessions = page.locator("#session-tree details.session");
  const n = await sessions.count();
  const first = sessions.first();
  const visibleBefore = await first.locator("li.event").first().isVisible();
  await first.locator("summary").click();
  await page.waitForTimeout(150);
  const open = await first.evaluate((d) => d.open);
  const children = await first.locator("li.event").count();
  const visibleAfter = await first.locator("li.event").first().isVisible();
  const hopsMarked = await page.locator("#session-tree li.event.hop").count();
  await first.scrollIntoViewIfNeeded();
  await shot("04-session-tree");
  await page.locator("#session-tree").screenshot({ path: join(shots, "04b-session-tree.png") });
  return { sessions: n, open, children, visibleBefore, visibleAfter, hopsMarked };
});

await step("status", async () => {
  await page.selectOption("#status-form select[name=status]", "active");
  await Promise.all([page.waitForURL(/notice=/), page.click("#status-form button")]);
  const status = (await page.locator("#incident-status").textContent()).trim();
  await page.fill("#comment-form textarea", "Checked with the user: not her. Revoking sessions.");
  await Promise.all([page.waitForURL(/notice=comment/), page.click("#comment-form button")]);
  const comments = await page.locator("ul.comments li").allTextContents();
  return { status, comments };
});

await step("user", async () => {
  const href = await page.locator(".facts a[href^='/users/']").first().getAttribute("href");
  await page.goto(`${base}${href}`);
  await page.waitForSelector("#map[data-drawn-points]");
  await page.waitForFunction(() => document.getElementById("map").getAttribute("data-countries"));
  await page.waitForTimeout(300);
  await shot("05-user");
  return { points: await page.locator("#map path.vigil-point").count(),
           lines: await page.locator("#map path.vigil-line").count(),
           chips: await page.locator("#behavior .chip.insight").count() };
});

await step("seedCase", async () => {
  // The seed's VPN egress failover: GB -> BG -> BR inside one session, judged egress_change.
  if (!process.env.VIGIL_SEED_PATH) { return { skipped: "VIGIL_SEED_PATH not set" }; }
  await page.goto(`${base}${process.env.VIGIL_SEED_PATH}`);
  await page.waitForSelector("#map[data-drawn-points]");
  await page.waitForFunction(() => document.getElementById("map").getAttribute("data-countries"));
  await page.waitForTimeout(300);
  const out = { points: await page.locator("#map path.vigil-point").count(), linesByVerdict: {} };
  for (const v of ["egress_change", "plausible", "improbable", "impossible"]) {
    out.linesByVerdict[v] = await page.locator(`#map path.vigil-line.verdict-${v}`).count();
  }
  out.legReasons = await page.locator("details.legs tbody tr").allTextContents();
  await shot("08-seed-egress-change");
  await page.locator("#map").screenshot({ path: join(shots, "08b-seed-map.png") });
  return out;
});

await step("hunt", async () => {
  await page.goto(`${base}/hunt`);
  const query = await page.inputValue("#kql");
  await Promise.all([page.waitForURL(/\/hunt$/), page.click("#hunt-run")]);
  await page.waitForSelector("#hunt-result, #hunt-error");
  const error = await textOrNull("#hunt-error");
  const headers = await page.locator("#hunt-result thead th").allTextContents();
  const rows = await page.locator("#hunt-result tbody tr").count();
  await shot("06-hunt");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#hunt-csv")]);
  const csvPath = join(shots, "hunt.csv");
  await download.saveAs(csvPath);
  return { query, error, headers, rows, csv: csvPath,
           csvName: download.suggestedFilename() };
});

await step("policy", async () => {
  await page.goto(`${base}/policy`);
  await page.waitForSelector("#whatif-form");
  const policies = await page.locator("#policies tbody tr").count();
  const fields = JSON.parse(process.env.VIGIL_WHATIF || "{}");
  for (const [name, value] of Object.entries(fields)) {
    const el = page.locator(`#whatif-form [name='${name}']`);
    const tag = await el.evaluate((n) => n.tagName);
    if (tag === "SELECT") { await el.selectOption(value); } else { await el.fill(String(value)); }
  }
  await Promise.all([page.waitForURL(/\/policy/), page.click("#whatif-run")]);
  await page.waitForSelector("#whatif-result, #whatif-error");
  const error = await textOrNull("#whatif-error");
  const decision = await textOrNull("#whatif-decision");
  const applied = await page.locator("#whatif-result tbody tr").count();
  await shot("07-policy-whatif");
  await Promise.all([page.waitForURL(/\/policy\/replay/), page.click("#replay-run")]);
  await page.waitForSelector("#replay-impact, #replay-error");
  const replayError = await textOrNull("#replay-error");
  const replayRows = await page.locator("#replay-impact tbody tr").count();
  const replaySummary = await textOrNull("#replay-summary");
  await page.locator("#replay-form").scrollIntoViewIfNeeded();
  await shot("09-policy-replay");
  return { policies, error, decision, applied, replayError, replayRows, replaySummary };
});

await context.close();
process.stdout.write(JSON.stringify(report, null, 2) + "\n");
