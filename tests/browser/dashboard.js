// dashboard.js - one step of the browser test of "eventctl dashboard"
// (tests/browser/test_dashboard.c drives the stack and calls this between its
// own steps): Debian's chromium, driven by playwright-core, loads the page as
// an operator would, checks what it shows, clicks, and saves a screenshot.
// It exits 0 when the step held, 1 with a line saying what did not.
//
// Usage: node dashboard.js <dashboard-url> <screenshot-dir> <step> [arguments...]
//   counts <context>                 the counts table shows context's processed messages
//   endpoints <n> <context>          n instances alive; context's processed chart has a bar and
//                                    its events queue consumers
//   failure <context> <kind> <n>     the failures table has context's <kind> group with n messages
//   retry <context> <kind> <n>       clicks its Retry group: "requeued n", then the group is gone
//   purge <context> <kind>           clicks its Purge, accepts the question, the group is gone
//   message <id> <n>                 "One message" shows its n rows and its body; its flow link draws
//   flow <correlation-id> <n>        the flow view draws a sequence diagram of at least n arrows
// Each step saves <screenshot-dir>/<step>[-<kind>].png (its section of the page) and prints "ok <step>: <what it saw>".
"use strict";
const path = require("node:path");
const { chromium } = require("playwright-core");

const WAIT_MS = 15000; // the page refreshes every 1-2 s: a few refreshes at most

function usage() {
  console.error("usage: dashboard.js <url> <screenshot-dir> counts|failure|retry|purge|flow [arguments...]");
  process.exit(2);
}

// The failures table's row of context and kind, as {cells, row} (null when absent).
async function failureRow(page, context, kind) {
  for (const row of await page.locator("#failures tbody tr").all()) {
    const cells = (await row.locator("td").allTextContents()).map((t) => t.trim());
    if (cells[1] === context && cells[2] === kind) return { cells, row };
  }
  return null;
}

// The page region from the heading whose text starts with `heading` down to the bottom of
// `last`, as wide as `last` and the elements `wide` names, in page coordinates (for a fullPage
// screenshot): one section, not the whole page.
async function region(page, heading, last, wide = []) {
  return page.evaluate(([heading, last, wide]) => {
    const h = [...document.querySelectorAll("h1, h2")].find((e) => e.textContent.startsWith(heading));
    const a = h.getBoundingClientRect(), b = document.querySelector(last).getBoundingClientRect();
    const right = Math.max(b.right, 480, ...wide.map((w) => document.querySelector(w).getBoundingClientRect().right));
    return { x: 0, y: a.top + window.scrollY - 6, width: Math.min(right + 12, document.documentElement.scrollWidth), height: b.bottom - a.top + 14 };
  }, [heading, last, wide]);
}

async function until(what, fn) {
  const deadline = Date.now() + WAIT_MS;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const steps = {
  async counts(page, [context]) {
    const seen = await until(`a processed count of ${context} in "Messages by context and status"`, async () => {
      for (const row of await page.locator("#contexts tbody tr").all()) {
        const cells = (await row.locator("td").allTextContents()).map((t) => t.trim());
        if (cells[0] === context && cells.slice(1).some((c) => /^[1-9][0-9]*$/.test(c))) return cells.join(" ");
      }
      return null;
    });
    return { shot: await region(page, "eventctl dashboard", "#contexts"), said: seen };
  },

  async endpoints(page, [n, context]) {
    const alive = await until(`${n} instances alive in "Endpoints"`, async () => {
      const states = await page.locator("#instances tbody td:nth-child(6)").allTextContents();
      const k = states.filter((t) => t.startsWith("alive")).length;
      return k === Number(n) ? k : null;
    });
    const bars = await until(`a bar in ${context}'s processed chart`, async () => {
      for (const row of await page.locator("#activity tbody tr").all()) {
        if ((await row.locator("td").first().textContent()) !== context) continue;
        const k = await row.locator("td:nth-child(3) svg.chart rect").count();
        return k > 0 ? k : null;
      }
      return null;
    });
    const consumers = await until(`consumers on ${context}.events in the queues table`, async () => {
      for (const row of await page.locator("#queues tbody tr").all()) {
        const cells = (await row.locator("td").allTextContents()).map((t) => t.trim());
        if (cells[0] === `${context}.events` && Number(cells[2]) > 0) return cells[2];
      }
      return null;
    });
    return { shot: await region(page, "Endpoints", "#queues"), said: `${alive} instances alive, ${bars} bar(s) in ${context}'s processed chart, ${consumers} consumer(s) on ${context}.events` };
  },

  async failure(page, [context, kind, n]) {
    const r = await until(`the ${kind} group of ${context} with ${n} message(s) in "Failures by cause"`, async () => {
      const f = await failureRow(page, context, kind);
      return f && f.cells[4] === n ? f : null;
    });
    return { shot: await region(page, "Failures by cause", "#failures"), said: r.cells.slice(0, 8).join(" | ") };
  },

  async retry(page, [context, kind, n]) {
    const r = await until(`the ${kind} group of ${context} in "Failures by cause"`, () => failureRow(page, context, kind));
    await r.row.getByRole("button", { name: "Retry group" }).click();
    const said = await until(`"requeued ${n} dead message(s)" after Retry group`, async () => {
      const t = await page.locator("#failures-result").textContent();
      return t.startsWith(`requeued ${n} dead message(s)`) ? t : null;
    });
    await until(`the ${kind} group of ${context} gone after its retry`, async () => !(await failureRow(page, context, kind)));
    return { shot: await region(page, "Failures by cause", "#failures"), said };
  },

  async purge(page, [context, kind]) {
    page.on("dialog", (d) => d.accept());
    const r = await until(`the ${kind} group of ${context} in "Failures by cause"`, () => failureRow(page, context, kind));
    await r.row.getByRole("button", { name: "Purge" }).click();
    const said = await until('"purged" after Purge', async () => {
      const t = await page.locator("#failures-result").textContent();
      return t.startsWith("purged ") ? t : null;
    });
    await until(`the ${kind} group of ${context} gone after its purge`, async () => !(await failureRow(page, context, kind)));
    return { shot: await region(page, "Failures by cause", "#failures"), said };
  },

  async message(page, [id, n]) {
    await page.locator("#mid").fill(id);
    await page.getByRole("button", { name: "Open" }).click();
    const rows = await until(`the ${n} rows of message ${id}`, async () => {
      const k = await page.locator("#message-rows tbody tr").count();
      return k === Number(n) && !(await page.locator("#message-rows").isHidden()) ? k : null;
    });
    const body = await page.locator("#message-body pre.message-body").first().textContent();
    if (!body.includes(id)) throw new Error(`the body shown does not hold the message's id: ${body}`);
    await page.getByRole("button", { name: "show its flow" }).click();
    await until("the sequence diagram its flow link draws", async () => (await page.locator("#diagram svg").count()) > 0);
    const shot = await region(page, "One message", "#message-body"); /* the flow above it has grown */
    const statuses = await page.locator("#message-rows tbody td:nth-child(3)").allTextContents();
    return { shot, said: `${rows} rows (${statuses.join(", ")}), its body and its flow` };
  },

  async flow(page, [cid, n]) {
    await page.locator("#cid").fill(cid);
    await page.getByRole("button", { name: "Show" }).click();
    const arrows = await until(`a sequence diagram of at least ${n} arrows for ${cid}`, async () => {
      const k = await page.locator("#diagram svg g line[marker-end], #diagram svg g path[marker-end]").count();
      return k >= Number(n) ? k : null;
    });
    const summary = await page.locator("#trace-summary").textContent();
    const names = await page.locator("#diagram svg > text").allTextContents();
    return { shot: await region(page, "Flow of a correlation id", "#diagram svg", ["#trace-summary"]), said: `${arrows} arrows between ${names.join(", ")}; ${summary}` };
  },
};

async function main() {
  const [url, dir, step, ...args] = process.argv.slice(2);
  if (!url || !dir || !steps[step]) usage();
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--disable-gpu"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems = [];
    page.on("pageerror", (e) => problems.push("page error: " + e.message));
    // A failed request shows as a console error without its URL: responses name it (the
    // browser's own favicon.ico request is the one 404 the page cannot prevent).
    page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && problems.push("console error: " + m.text()));
    page.on("response", (r) => r.status() >= 400 && !r.url().endsWith("/favicon.ico") && problems.push(`${r.status()} from ${r.url()}`));
    await page.goto(url);
    await until("the page's first refresh", async () => (await page.locator("#state").textContent()).startsWith("updated"));
    const { shot, said } = await steps[step](page, args);
    // One file per step and kind: failure-poison.png, failure-dead.png, retry-dead.png, …
    const name = ["failure", "retry", "purge"].includes(step) ? `${step}-${args[1]}` : step;
    await page.screenshot({ path: path.join(dir, name + ".png"), clip: shot, fullPage: true });
    if (problems.length) throw new Error(problems.join("; "));
    console.log(`ok ${step}: ${said}`);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(`browser step ${process.argv[4]} failed: ${e.message}`);
  process.exit(1);
});
