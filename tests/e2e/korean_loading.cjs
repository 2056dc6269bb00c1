// Korean that reads as Korean on every page, and what a learner sees before the wasm arrives.
'use strict';
const http = require('node:http');
const zlib = require('node:zlib');

// A particle written in both forms, the notation docs/authoring.md forbids (tests/korean.rs
// checks the sources; this checks what the pages actually show, values filled in).
const DOUBLED = /을\(를\)|를\(을\)|\(을\)를|이\(가\)|가\(이\)|\(이\)가|은\(는\)|는\(은\)|\(은\)는|과\(와\)|와\(과\)|\(과\)와|\(으\)로/g;


// GET `path` from the site with `acceptEncoding`, without decoding the body.
function fetchRaw(base, path, acceptEncoding) {
  return new Promise((resolve, reject) => {
    const headers = acceptEncoding === null ? {} : { 'Accept-Encoding': acceptEncoding };
    http.get(new URL(path, base), { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

module.exports = ({ scenario, open, shot, noErrors, assert, BASE }) => {
  scenario('korean: no page in either language writes a particle in both forms', async (ctx, report) => {
    const page = await open(ctx);
    const routes = await page.evaluate(() => [
      '#/',
      ...[...document.querySelectorAll('.lv-lesson-link, .lv-card-link')].map((a) => a.getAttribute('href')),
    ]);
    assert.ok(routes.filter((r) => r.startsWith('#/lesson/')).length >= 12, 'every lesson is listed');
    assert.ok(routes.filter((r) => r.startsWith('#/tool/')).length >= 4, 'every tool is listed');
    const found = [];
    for (const lang of ['EN', '한국어']) {
      await page.getByRole('button', { name: lang, exact: true }).click();
      await page.locator(`html[lang=${lang === 'EN' ? 'en' : 'ko'}]`).waitFor();
      for (const route of routes) {
        await page.evaluate((h) => { location.hash = h; }, route);
        await page.locator('main h1').first().waitFor();
        // Let the page's effects (the lab's replay, a lesson's first exercise) settle.
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
        const text = await page.evaluate(() => document.body.innerText);
        for (const m of text.matchAll(DOUBLED)) {
          const at = m.index;
          found.push(`${lang} ${route}: …${text.slice(Math.max(0, at - 30), at + 20).replace(/\s+/g, ' ')}…`);
        }
      }
    }
    report.push(`korean: ${routes.length} pages × 2 languages scanned for doubled particles`);
    assert.deepEqual(found, [], 'pages write a particle in both forms');
    noErrors(page);
  });

  scenario('loading: the lesson list is painted before the wasm has arrived, then the app replaces it', async (ctx, report) => {
    const page = await ctx.newPage();
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(`uncaught: ${e.message}`));
    // Hold every wasm request until the shell has been checked: a learner on a slow link.
    let release;
    const released = new Promise((r) => { release = r; });
    await page.route('**/*.wasm', async (route) => { await released; await route.continue(); });
    const started = Date.now();
    await page.goto(BASE, { waitUntil: 'domcontentloaded' });
    const items = page.locator('.lv-static .lv-lessons li');
    await items.first().waitFor({ state: 'visible' });
    const shell = await page.evaluate(() => ({
      items: document.querySelectorAll('.lv-static .lv-lessons li').length,
      hrefs: [...document.querySelectorAll('.lv-static .lv-lesson-link')].map((a) => a.getAttribute('href')),
      korean: [...document.querySelectorAll('.lv-static .lv-lesson-link [lang=ko]')].map((s) => s.textContent),
      app: document.querySelectorAll('.lv-app').length,
      wasm: performance.getEntriesByType('resource').filter((r) => r.name.endsWith('.wasm') && r.responseEnd > 0).length,
      paint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
    }));
    assert.ok(shell.items >= 12, `the shell lists every lesson (${shell.items})`);
    assert.equal(shell.app, 0, 'the app has not started: its wasm is still held');
    assert.equal(shell.wasm, 0, 'no wasm has arrived');
    assert.ok(shell.hrefs.every((h) => /^#\/lesson\/[a-z0-9-]+$/.test(h)), `lesson routes: ${shell.hrefs}`);
    assert.ok(shell.korean.length === shell.items && shell.korean.every((t) => /[가-힣]/.test(t)),
      'each lesson also has its Korean title');
    await shot(page, 'loading-shell');
    report.push(`loading: lesson list painted at ${shell.paint === null ? '?' : shell.paint.toFixed(0)} ms (first contentful paint) with the wasm still held back`);
    release();
    await page.locator('.lv-app').waitFor();
    await page.locator('.lv-app .lv-lessons li').first().waitFor();
    assert.equal(await page.locator('.lv-static').count(), 0, 'the app replaced the shell');
    assert.equal(await page.locator('.lv-app .lv-lessons li').count(), shell.items, 'the same lessons');
    report.push(`loading: app started ${Date.now() - started} ms after navigation (wasm held until the shell was checked)`);
    assert.deepEqual(page.errors, []);
  });

  scenario('loading: the server sends the precompressed brotli or gzip copy the request accepts', async (ctx, report) => {
    const wasm = 'pkg/labvisor_web_bg.wasm';
    const raw = await fetchRaw(BASE, wasm, null);
    assert.equal(raw.status, 200);
    assert.equal(raw.headers['content-encoding'], undefined, 'no Accept-Encoding: the file as it is');
    assert.equal(raw.headers['content-type'], 'application/wasm');
    const br = await fetchRaw(BASE, wasm, 'gzip, deflate, br');
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.headers['content-type'], 'application/wasm', 'the type of the file, not of the encoding');
    assert.match(br.headers.vary || '', /Accept-Encoding/i);
    assert.ok(zlib.brotliDecompressSync(br.body).equals(raw.body), 'the .br decodes to the wasm');
    const gz = await fetchRaw(BASE, wasm, 'gzip;q=1.0, br;q=0');
    assert.equal(gz.headers['content-encoding'], 'gzip', 'br;q=0 refuses brotli');
    assert.ok(zlib.gunzipSync(gz.body).equals(raw.body), 'the .gz decodes to the wasm');
    const html = await fetchRaw(BASE, '', 'br');
    assert.equal(html.headers['content-encoding'], 'br');
    assert.match(zlib.brotliDecompressSync(html.body).toString(), /lv-lesson-link/);
    report.push(`serve: wasm ${(raw.body.length / 1024).toFixed(1)} KiB raw, ${(gz.body.length / 1024).toFixed(1)} KiB gzip, ${(br.body.length / 1024).toFixed(1)} KiB brotli`);
    // And the browser itself gets a compressed wasm.
    const page = await open(ctx);
    const sizes = await page.evaluate(() => performance.getEntriesByType('resource')
      .filter((r) => r.name.endsWith('.wasm')).map((r) => [r.encodedBodySize, r.decodedBodySize])[0]);
    assert.ok(sizes && sizes[0] > 0 && sizes[0] < sizes[1] / 2, `the browser downloads a compressed wasm: ${sizes}`);
    noErrors(page);
  });
};
