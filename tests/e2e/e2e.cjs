// End-to-end tests of the built Labvisor site in headless Chromium, driven by Playwright
// (playwright-core, with Debian's Chromium: nothing is downloaded). Run by
// `cargo xtask test-web` (and so `cargo xtask test`), which builds and serves the site and sets:
//   LABVISOR_URL          the served site, e.g. http://127.0.0.1:40000/
//   LABVISOR_OUT          where screenshots go (target/e2e/)
//   LABVISOR_PLAYWRIGHT   the installed playwright-core package
//   LABVISOR_CHROMIUM     the browser binary; LABVISOR_CHROMIUM_FLAGS its extra flags
// Each scenario acts as a learner would (clicks, typing, keyboard), and any console error or
// uncaught exception fails the run.
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require(process.env.LABVISOR_PLAYWRIGHT);

const BASE = process.env.LABVISOR_URL;
const OUT = process.env.LABVISOR_OUT;
const scenarios = [];
const scenario = (name, fn) => scenarios.push({ name, fn });

// ---------------------------------------------------------------- helpers
async function open(context, hash = '', file = '') {
  const page = await context.newPage();
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(`console.error: ${m.text()}`); });
  page.on('pageerror', (e) => page.errors.push(`uncaught: ${e.message}`));
  await page.goto(BASE + file + hash);
  await page.locator('.lv-app').first().waitFor();
  return page;
}
async function shot(page, name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}
function noErrors(page) {
  assert.deepEqual(page.errors, [], 'the page logged errors');
}
async function h1(page) {
  return (await page.locator('main h1').first().textContent()).trim();
}

// ---------------------------------------------------------------- scenarios
scenario('home page renders fast, in English, with every tool', async (ctx, report) => {
  const page = await open(ctx);
  assert.equal(await h1(page), 'Labvisor');
  const cards = page.locator('.lv-card');
  assert.ok((await cards.count()) >= 4, 'four tool cards');
  const timing = await page.evaluate(() => {
    const mark = performance.getEntriesByName('labvisor-first-render')[0];
    const nav = performance.getEntriesByType('navigation')[0];
    return { render: mark ? mark.startTime : null, wasm: performance.getEntriesByType('resource')
      .filter((r) => r.name.endsWith('.wasm')).map((r) => r.transferSize)[0] };
  });
  assert.ok(timing.render !== null, 'the app marks its first render');
  report.push(`first meaningful render: ${timing.render.toFixed(0)} ms after navigation start (target ≤ 500 ms)`);
  await shot(page, '01-home');
  noErrors(page);
});

scenario('language switches to Korean and back without losing the page', async (ctx) => {
  const page = await open(ctx);
  await page.getByRole('button', { name: '한국어' }).click();
  await page.locator('html[lang=ko]').waitFor();
  assert.match(await page.locator('#lv-tools-title').textContent(), /도구/);
  await shot(page, '02-home-ko');
  await page.getByRole('button', { name: 'EN' }).click();
  await page.locator('html[lang=en]').waitFor();
  assert.equal(await page.locator('#lv-tools-title').textContent(), 'Tools');
  noErrors(page);
});

scenario('keyboard alone reaches a tool', async (ctx) => {
  const page = await open(ctx);
  // Tab through the page until a tool card has focus, then follow it with Enter.
  let focused = '';
  for (let i = 0; i < 20 && !focused.startsWith('#/tool/'); i++) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.activeElement?.getAttribute('href') ?? '');
  }
  assert.ok(focused.startsWith('#/tool/'), 'a tool card is reachable with Tab');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'focus is visible');
  await page.keyboard.press('Enter');
  await page.waitForURL(/#\/tool\//);
  noErrors(page);
});

scenario('progress survives a reload, exports and imports as a file', async (ctx) => {
  const page = await open(ctx);
  const file = path.join(OUT, 'progress-import.json');
  fs.writeFileSync(file, JSON.stringify({ format: 'labvisor-progress', version: 1, completed: ['tool:ipv4', 'lesson:nat/1'] }));
  await page.locator('#lv-import-file').setInputFiles(file);
  await page.locator('.lv-notice-info').waitFor();
  assert.equal(await page.locator('.lv-progress-count').textContent(), '2');
  await page.reload();
  await page.locator('.lv-app').waitFor();
  assert.equal(await page.locator('.lv-progress-count').textContent(), '2', 'progress kept after reload');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export progress' }).click(),
  ]);
  const exported = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  assert.deepEqual(exported.completed, ['lesson:nat/1', 'tool:ipv4']);
  // A file that is not progress changes nothing and says so.
  const bad = path.join(OUT, 'not-progress.json');
  fs.writeFileSync(bad, '{"hello": 1}');
  await page.locator('#lv-import-file').setInputFiles(bad);
  await page.locator('.lv-notice-error').waitFor();
  assert.equal(await page.locator('.lv-progress-count').textContent(), '2');
  noErrors(page);
});

scenario('a share link opens the same lab; a corrupted one changes nothing', async (ctx) => {
  const page = await open(ctx, '#/tool/ports');
  await page.getByRole('button', { name: 'Share' }).click();
  const link = await page.locator('#lv-share-link').inputValue();
  assert.match(link, /#\/share\/[A-Za-z0-9_-]+$/);
  await shot(page, '05-share-panel');

  // A second learner with their own progress opens the link.
  const other = await ctx.browser().newContext();
  const theirs = await other.newPage();
  theirs.errors = [];
  theirs.on('console', (m) => { if (m.type() === 'error') theirs.errors.push(m.text()); });
  await theirs.goto(link);
  await theirs.locator('.lv-notice-info').waitFor();
  await theirs.waitForURL(/#\/tool\/ports$/);
  // Corrupt one character in the payload: a friendly error, nothing lost.
  const payload = link.split('#/share/')[1];
  const flip = payload[5] === 'A' ? 'B' : 'A';
  const corrupted = link.replace(payload, payload.slice(0, 5) + flip + payload.slice(6));
  const before = await theirs.evaluate(() => localStorage.getItem('labvisor.progress.v1'));
  await theirs.goto(corrupted);
  await theirs.locator('.lv-notice-error').waitFor();
  assert.match(await theirs.locator('.lv-notice-error').textContent(), /damaged|incomplete/);
  assert.equal(await theirs.evaluate(() => localStorage.getItem('labvisor.progress.v1')), before);
  await shot(theirs, '06-corrupted-share-link');
  // Garbage that is not even base64.
  await theirs.getByRole('button', { name: 'Dismiss' }).click();
  await theirs.goto(BASE + '#/share/%%%not-a-link');
  await theirs.locator('.lv-notice-error').waitFor();
  assert.deepEqual(theirs.errors, []);
  await other.close();
  noErrors(page);
});

scenario('usable at 360 px', async (ctx) => {
  const page = await open(ctx);
  await page.setViewportSize({ width: 360, height: 780 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling at 360 px (overflow ${overflow}px)`);
  await shot(page, '07-home-360px');
  noErrors(page);
});

scenario('the embed example mounts its labs', async (ctx) => {
  const page = await ctx.newPage();
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  page.on('pageerror', (e) => page.errors.push(e.message));
  await page.goto(BASE + 'embed.html');
  const ipv4 = page.locator('#lab-ipv4 .lv-app');
  await ipv4.waitFor();
  await page.locator('#lab-js .lv-app').waitFor();
  await page.locator('#lab-nat .lv-app').waitFor();
  assert.match(await page.locator('#lab-ipv4 main h1').textContent(), /IPv4/);
  await shot(page, '08-embed');
  assert.deepEqual(page.errors, []);
});

// ---------------------------------------------------------------- runner
(async () => {
  const flags = (process.env.LABVISOR_CHROMIUM_FLAGS || '').split(' ').filter(Boolean);
  // launch() gives the browser a fresh, temporary user-data-dir; every scenario then gets its
  // own context, so no storage leaks from one to the next.
  const browser = await chromium.launch({
    executablePath: process.env.LABVISOR_CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', ...flags],
  });
  let passed = 0;
  let failed = 0;
  const report = [];
  for (const { name, fn } of scenarios) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    try {
      await fn(ctx, report);
      passed++;
      console.log(`ok   ${name}`);
    } catch (err) {
      failed++;
      console.log(`FAIL ${name}\n     ${String(err.stack || err).split('\n').join('\n     ')}`);
    } finally {
      await ctx.close();
    }
  }
  await browser.close();
  for (const line of report) console.log(line);
  console.log(`screenshots: ${OUT}`);
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})().catch((err) => { console.error(err); process.exit(2); });
