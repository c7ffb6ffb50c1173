// Opens one page of a running vigil in Debian's headless Chromium and reports how many countries
// the itinerary map drew (tests/web/test_wheel.py: the wheel's own world map, served without node).
// env: VIGIL_URL, VIGIL_TOKEN (reader), VIGIL_PAGE (path), VIGIL_CHROMIUM, VIGIL_USER_DATA_DIR
import { chromium } from "playwright-core";

const base = process.env.VIGIL_URL;
const context = await chromium.launchPersistentContext(process.env.VIGIL_USER_DATA_DIR, {
  executablePath: process.env.VIGIL_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
const report = { pageErrors: [], failed: [], external: [] };
const page = context.pages()[0] || await context.newPage();
page.setDefaultTimeout(20000);
page.on("pageerror", (e) => report.pageErrors.push(String(e)));
page.on("response", (r) => { if (r.status() >= 400) report.failed.push(`${r.status()} ${r.url()}`); });
await context.route("**/*", (route) => {
  const url = route.request().url();
  if (url.startsWith(base) || url.startsWith("data:")) { return route.continue(); }
  report.external.push(url);
  return route.abort();
});
try {
  await page.goto(`${base}/signin?next=${encodeURIComponent(process.env.VIGIL_PAGE)}`);
  await page.fill("#token", process.env.VIGIL_TOKEN);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/signin")), page.click("#signin-submit")]);
  await page.waitForFunction(() => document.getElementById("map").getAttribute("data-countries"));
  report.countries = Number(await page.locator("#map").getAttribute("data-countries"));
} catch (e) {
  report.failure = String(e && e.stack || e);
}
await context.close();
console.log(JSON.stringify(report));
