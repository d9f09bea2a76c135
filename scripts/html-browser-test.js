// Opens keyhound HTML reports in headless Chromium and checks them as a person would use them:
// the table renders, filters change the visible rows, a row opens its details, hostile content
// stays text, the page makes no request but its own and breaks no rule of its
// Content-Security-Policy. Times the first render and the filters, and saves screenshots.
//
// usage: node html-browser-test.js SCAN.html BIG.html OUT_DIR
//   SCAN.html: a report of a real scan (with findings in HEAD and only in history)
//   BIG.html:  a report of many findings, for the timings
// Environment: KEYHOUND_CHROMIUM (default /usr/bin/chromium), KEYHOUND_PLAYWRIGHT (the
// playwright-core module to load).
"use strict";

const fs = require("fs");
const http = require("http");
const path = require("path");
const { chromium } = require(process.env.KEYHOUND_PLAYWRIGHT || "playwright-core");

// Headless, and nothing of Chromium's own that would reach for the network.
const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-default-apps", "--disable-extensions", "--metrics-recording-only",
];

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) passed++;
  else failed++;
  const shown = ok || detail === undefined ? "" : ": " + String(detail).slice(0, 400);
  console.log((ok ? "ok     " : "FAILED ") + name + shown);
}

// Serves one file on 127.0.0.1 and records every request it gets.
function serve(file) {
  const body = fs.readFileSync(file);
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url);
    if (req.url === "/report.html") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(body);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    resolve({ url: "http://127.0.0.1:" + server.address().port + "/report.html", requests, server });
  }));
}

// Opens a page, recording what it requests and every error, dialog and CSP violation.
async function open(browser, file) {
  const srv = await serve(file);
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const log = { requests: [], errors: [], dialogs: [] };
  page.on("request", (r) => log.requests.push(r.url()));
  page.on("pageerror", (e) => log.errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") log.errors.push(m.text()); });
  page.on("dialog", (d) => { log.dialogs.push(d.message()); d.dismiss(); });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener("securitypolicyviolation",
      (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
    window.__longest = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
    }).observe({ type: "longtask", buffered: true });
  });
  await page.goto(srv.url);
  await page.waitForSelector("html[data-rendered]", { timeout: 60000 });
  return { page, context, srv, log };
}

// The rows that exist in the table and are not hidden, in order, as arrays of cell texts.
function visibleRows(page) {
  return page.evaluate(() => {
    const rows = [...document.querySelectorAll("#grid-body .row")].filter((r) => !r.hidden);
    rows.sort((a, b) => Number(a.getAttribute("aria-rowindex")) - Number(b.getAttribute("aria-rowindex")));
    return rows.map((r) => [...r.children].map((c) => c.textContent));
  });
}

function columnIndex(page, key) {
  return page.evaluate((k) => [...document.querySelectorAll("#grid-head .cell")]
    .findIndex((c) => c.dataset.key === k), key);
}

// Sets a filter the way a person does and times it: the change handler alone, and until the
// next frame has been painted.
function setFilter(page, id, value) {
  return page.evaluate(async ([id, value]) => {
    const el = document.getElementById(id);
    const t0 = performance.now();
    el.value = value;
    el.dispatchEvent(new Event(el.tagName === "INPUT" ? "input" : "change"));
    const handler = performance.now() - t0;
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    return { handler, painted: performance.now() - t0, shown: document.getElementById("shown").textContent };
  }, [id, value]);
}

function optionsOf(page, id) {
  return page.evaluate((id) => [...document.getElementById(id).options]
    .map((o) => ({ value: o.value, label: o.textContent })), id);
}

// What every page must hold to: no foreign request, no error, no dialog, no CSP violation,
// no element from content.
async function checkClean(name, p) {
  const { page, srv, log } = p;
  check(name + ": the page requested nothing but itself",
    log.requests.length === 1 && log.requests[0] === srv.url, JSON.stringify(log.requests));
  check(name + ": the server saw one request", srv.requests.length === 1 && srv.requests[0] === "/report.html",
    JSON.stringify(srv.requests));
  const csp = await page.evaluate(() => window.__csp);
  check(name + ": no Content-Security-Policy violation", csp.length === 0, JSON.stringify(csp));
  check(name + ": no script error", log.errors.length === 0, JSON.stringify(log.errors));
  check(name + ": no dialog opened", log.dialogs.length === 0, JSON.stringify(log.dialogs));
  const foreign = await page.evaluate(() => document.querySelectorAll("img, iframe, object, embed, link").length);
  check(name + ": no element from scanned content", foreign === 0, foreign + " found");
}

async function scanPage(browser, file, out) {
  const p = await open(browser, file);
  const { page } = p;
  await checkClean("scan", p);
  const before = await visibleRows(page);
  check("scan: rows rendered", before.length > 0, "none");
  const providers = (await optionsOf(page, "f-provider")).filter((o) => o.value !== "");
  const pick = providers[providers.length - 1]; // the rarest, so never every row
  check("scan: findings of several providers", providers.length > 1, String(providers.length));
  const r = await setFilter(page, "f-provider", pick.value);
  const after = await visibleRows(page);
  const col = await columnIndex(page, "provider");
  check("scan: the provider filter changes the visible rows",
    after.length > 0 && JSON.stringify(after) !== JSON.stringify(before), r.shown);
  check("scan: every visible row has the chosen provider",
    after.every((row) => row[col] === pick.value), JSON.stringify(after.map((row) => row[col])));
  await page.click("#f-reset");
  await page.waitForFunction((n) => document.querySelectorAll("#grid-body .row:not([hidden])").length === n, before.length);
  const head = (await optionsOf(page, "f-head")).map((o) => o.value);
  if (head.includes("no")) {
    await setFilter(page, "f-head", "no");
    const loc = await columnIndex(page, "loc");
    const rows = await visibleRows(page);
    check("scan: findings only in history are located in their commit",
      rows.length > 0 && rows.every((row) => /:\d+\s*@ [0-9a-f]{8}$/.test(row[loc])), JSON.stringify(rows.map((x) => x[loc])));
    await page.click("#f-reset");
  }
  await setFilter(page, "f-text", "onerror");
  const hostile = await page.evaluate(() => document.getElementById("grid-body").textContent);
  if (hostile.includes("onerror")) {
    check("scan: hostile paths and messages are shown as text", hostile.includes("<img src=x onerror=alert(1)>"), hostile.slice(0, 200));
  }
  await setFilter(page, "f-text", "");
  await page.click("#grid-body .row:not([hidden])");
  const detail = await page.evaluate(() => document.getElementById("detail").textContent);
  check("scan: a row opens its details", detail.includes("Fingerprint"), detail.slice(0, 200));
  await page.screenshot({ path: path.join(out, "scan.png"), fullPage: true });
  await checkClean("scan (after use)", p);
  await p.context.close();
  p.srv.server.close();
}

async function bigPage(browser, file, out) {
  const p = await open(browser, file);
  const { page } = p;
  const t = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const data = JSON.parse(document.getElementById("keyhound-data").textContent);
    return {
      findings: data.findings.length, bytes: nav.transferSize || nav.encodedBodySize,
      responseEnd: nav.responseEnd, parse: window.keyhoundTimings.parse,
      firstRender: window.keyhoundTimings.firstRender, painted: window.keyhoundTimings.painted,
      longestTask: window.__longest,
      rowElements: document.querySelectorAll("#grid-body .row").length,
    };
  });
  await checkClean("big", p);
  check("big: only the rows in view exist (" + t.rowElements + " of " + t.findings + ")", t.rowElements < 100);
  const providers = (await optionsOf(page, "f-provider")).filter((o) => o.value !== "");
  const provider = await setFilter(page, "f-provider", providers[1].value);
  const head = await setFilter(page, "f-head", "no");
  const validity = await setFilter(page, "f-validity", "valid");
  check("big: combined filters narrow the table", /^Showing \d+ of /.test(validity.shown), validity.shown);
  await page.click("#f-reset");
  await page.waitForFunction(() => document.getElementById("shown").textContent.startsWith("Showing all"));
  const search = await setFilter(page, "f-text", "service");
  await setFilter(page, "f-text", "");
  const scroll = await page.evaluate(async () => {
    const grid = document.getElementById("grid");
    const t0 = performance.now();
    grid.scrollTop = grid.scrollHeight / 2;
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const rows = [...document.querySelectorAll("#grid-body .row:not([hidden])")];
    return { painted: performance.now() - t0, first: Math.min(...rows.map((r) => Number(r.getAttribute("aria-rowindex")))) };
  });
  check("big: scrolling halfway shows rows from the middle", scroll.first > 1000, String(scroll.first));
  const sort = await page.evaluate(async () => {
    const t0 = performance.now();
    document.querySelector('#grid-head [data-key="commit"] button').click();
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    return { painted: performance.now() - t0 };
  });
  await page.screenshot({ path: path.join(out, "synthetic.png"), fullPage: true });
  await checkClean("big (after use)", p);
  const timings = {
    findings: t.findings, page_bytes: t.bytes,
    downloaded_ms: t.responseEnd, json_parse_ms: t.parse,
    first_render_ms: t.firstRender, first_paint_with_rows_ms: t.painted, longest_task_ms: t.longestTask,
    provider_filter_ms: provider.painted, head_filter_ms: head.painted, validity_filter_ms: validity.painted,
    first_text_search_ms: search.painted, scroll_ms: scroll.painted, sort_by_commit_date_ms: sort.painted,
  };
  for (const k of Object.keys(timings)) if (k.endsWith("_ms")) timings[k] = Math.round(timings[k] * 10) / 10;
  fs.writeFileSync(path.join(out, "timings.json"), JSON.stringify(timings, null, 2) + "\n");
  console.log("timings (ms since navigation start for render, else per action):");
  console.log(JSON.stringify(timings, null, 2));
  await p.context.close();
  p.srv.server.close();
}

async function main() {
  const [scan, big, out] = process.argv.slice(2);
  if (!scan || !big || !out) throw new Error("usage: node html-browser-test.js SCAN.html BIG.html OUT_DIR");
  const browser = await chromium.launch({
    executablePath: process.env.KEYHOUND_CHROMIUM || "/usr/bin/chromium",
    args: FLAGS,
  });
  try {
    await scanPage(browser, scan, out);
    await bigPage(browser, big, out);
  } finally {
    await browser.close();
  }
  console.log("html-browser-test: " + passed + " passed, " + failed + " failed");
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  console.log("html-browser-test: " + passed + " passed, " + (failed + 1) + " failed");
  process.exit(1);
});
