// Every page of vigil's web UI at a desktop (1400x900) and a phone (390x844) viewport, in Debian's
// headless Chromium: one screenshot of the first screen each, and the layout facts a phone needs
// (no sideways scrolling of the page, navigation and heading on the first screen, nothing wider than
// the screen outside a scrolling table). Prints one JSON report; tests/web/test_pages_layout.py asserts
// on it and, with VIGIL_DOCS_SCREENSHOTS=1, keeps the PNGs in docs/ui/.
//
// env: VIGIL_URL, VIGIL_TOKEN (admin), VIGIL_SCREENSHOTS (folder), VIGIL_USER_DATA_DIR, VIGIL_CHROMIUM,
//      VIGIL_PAGES (JSON: [{name, path, fill?, submit?, wait?, scrollTo?, read?}] in order; "signin" first, before signing in)
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const base = process.env.VIGIL_URL;
const shots = process.env.VIGIL_SCREENSHOTS;
const pages = JSON.parse(process.env.VIGIL_PAGES);
mkdirSync(shots, { recursive: true });
const VIEWPORTS = { desktop: { width: 1400, height: 900 }, mobile: { width: 390, height: 844 } };

const report = { console: [], pageErrors: [], external: [], pages: {} };
const context = await chromium.launchPersistentContext(process.env.VIGIL_USER_DATA_DIR, {
  executablePath: process.env.VIGIL_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"],
  viewport: VIEWPORTS.desktop,
});
const page = context.pages()[0] || await context.newPage();
page.setDefaultTimeout(20000);
let current = null;  // the page being visited, so a message names it
page.on("console", (m) => {
  if (m.type() === "error" || m.type() === "warning") { report.console.push({ page: current, text: m.text() }); }
});
page.on("pageerror", (e) => report.pageErrors.push(String(e)));
await context.route("**/*", (route) => {
  const url = route.request().url();
  if (url.startsWith(base) || url.startsWith("data:")) { return route.continue(); }
  report.external.push(url);
  return route.abort();
});

// What a phone user would trip over, measured in the page.
function layout() {
  const vw = window.innerWidth;
  const scrollers = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll" || o === "hidden") { return true; }
    }
    return false;
  };
  const wide = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= vw + 1 || scrollers(el)) { continue; }
    wide.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${el.className && typeof el.className === "string" ? "." + el.className.split(" ")[0] : ""} right=${Math.round(r.right)} "${(el.textContent || "").trim().slice(0, 30)}"`);
  }
  const nav = document.querySelector("header.top");
  const h1 = document.querySelector("h1");
  const small = [...document.querySelectorAll("button, select, input:not([type=hidden]):not([type=checkbox]), nav a")]
    .filter((el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && r.height < 20; })
    .map((el) => el.outerHTML.slice(0, 60));
  return {
    viewport: vw, scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 10),
    navBottom: nav ? Math.round(nav.getBoundingClientRect().bottom) : null,
    h1Top: h1 ? Math.round(h1.getBoundingClientRect().top + window.scrollY) : null,
    fontSize: parseFloat(getComputedStyle(document.body).fontSize), smallTargets: small.slice(0, 5),
  };
}

async function visit(p, view) {
  await page.setViewportSize(VIEWPORTS[view]);
  const r = await page.goto(`${base}${p.path}`);
  for (const [name, value] of Object.entries(p.fill || {})) {
    const el = page.locator(`[name='${name}']`).first();
    if (await el.evaluate((n) => n.tagName) === "SELECT") { await el.selectOption(value); } else { await el.fill(String(value)); }
  }
  if (p.submit) {
    await Promise.all([page.waitForNavigation(), page.click(p.submit)]);
  }
  if (p.wait) { await page.waitForSelector(p.wait); }
  if (await page.locator("#map").count()) {
    await page.waitForFunction(() => document.getElementById("map").getAttribute("data-countries"));
    await page.waitForTimeout(300);
  }
  if (p.scrollTo) { await page.locator(p.scrollTo).first().scrollIntoViewIfNeeded(); }
  else { await page.evaluate(() => window.scrollTo(0, 0)); }
  const file = join(shots, `${p.name}-${view}.png`);
  await page.screenshot({ path: file });
  const read = {};
  for (const [key, sel] of Object.entries(p.read || {})) {
    const loc = page.locator(sel);
    const n = await loc.count();
    read[key] = { count: n, text: n ? (await loc.first().textContent()).trim() : null,
                  visible: n ? await loc.first().isVisible() : false };
  }
  return { status: r.status(), url: new URL(page.url()).pathname, file, read, ...(await page.evaluate(layout)) };
}

let signedIn = false;
for (const p of pages) {
  report.pages[p.name] = {};
  current = p.name;
  for (const view of Object.keys(VIEWPORTS)) {
    try {
      if (p.name !== "signin" && !signedIn) {
        await page.goto(`${base}/signin`);
        await page.fill("#token", process.env.VIGIL_TOKEN);
        await Promise.all([page.waitForURL(/\/incidents/), page.click("#signin-submit")]);
        signedIn = true;
      }
      report.pages[p.name][view] = await visit(p, view);
    } catch (e) {
      report.pages[p.name][view] = { failure: String(e && e.stack || e) };
    }
  }
}
await context.close();
process.stdout.write(JSON.stringify(report, null, 2) + "\n");
