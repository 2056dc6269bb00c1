// The network lab's trace: the NAT tables follow the selected step, packet cards show what a hop
// changed, the keyboard steps, Korean explains each Linux line, and a NAT rewrite can be
// predicted and graded before it is revealed.
'use strict';

module.exports = ({ scenario, open, shot, noErrors, assert }) => {
  // Selects step `n` (1-based) with the keyboard from the start of the trace.
  async function stepTo(page, n) {
    await page.locator('.lv-net-trace').focus();
    await page.keyboard.press('Home');
    for (let i = 1; i < n; i++) await page.keyboard.press('ArrowRight');
    await page.locator('.lv-player-pos', { hasText: new RegExp(`^${n}/`) }).waitFor();
  }
  async function nowText(page) {
    return (await page.locator('.lv-trace-now').textContent()).trim();
  }

  scenario('network trace: the NAT table follows the packet, beside the trace, and the keyboard steps', async (ctx) => {
    const page = await open(ctx, '#/tool/network');
    await page.setViewportSize({ width: 1366, height: 900 });
    await page.locator('.lv-net-trace').waitFor();
    // Play is in view at 900 px without scrolling, and the trace and tables stand side by side.
    const play = await page.locator('.lv-play').boundingBox();
    assert.ok(play.y + play.height <= 900, `Play at ${play.y}`);
    // Scrolled to the trace, the tables stand beside it and Play stays in view.
    await page.locator('.lv-net-follow').evaluate((e) => e.scrollIntoView());
    const trace = await page.locator('.lv-net-trace').boundingBox();
    const tables = await page.locator('.lv-net-tables').boundingBox();
    const boxes = JSON.stringify({ trace, tables });
    assert.ok(tables.x >= trace.x + trace.width - 1, `tables beside the trace: ${boxes}`);
    assert.ok(tables.y >= -1 && tables.y < 900 && trace.y >= -1 && trace.y < 900, `both start on screen: ${boxes}`);
    const playing = await page.locator('.lv-play').boundingBox();
    assert.ok(playing.y >= 0 && playing.y + playing.height <= 900, `Play stays in view: ${JSON.stringify(playing)}`);

    // Step 7: the SYN... the DNS query's conntrack [NEW] line, and the table as it stands then.
    await stepTo(page, 7);
    assert.match(await nowText(page), /conntrack \[NEW\].*\[UNREPLIED\]/);
    const touched = page.locator('.lv-ct-line.lv-ct-touched');
    assert.equal(await touched.count(), 1, 'the entry of this step is marked');
    assert.match(await touched.textContent(), /\[UNREPLIED\]/);
    assert.doesNotMatch(await page.locator('.lv-net-tables').textContent(), /\[ASSURED\]/);
    await shot(page, '20-network-trace-step7');

    // Timestamps move along the journey (a millisecond a hop).
    const times = await page.locator('.lv-trace-time').allTextContents();
    assert.ok(new Set(times.slice(0, 20)).size > 3, `times move: ${times.slice(0, 20)}`);

    // ←/→ step, End jumps to the last line.
    await page.keyboard.press('ArrowRight');
    await page.locator('.lv-player-pos', { hasText: /^8\// }).waitFor();
    await page.keyboard.press('ArrowLeft');
    await page.locator('.lv-player-pos', { hasText: /^7\// }).waitFor();

    // The handshake's last packet makes the TCP entry ESTABLISHED and [ASSURED].
    const established = page.locator('.lv-trace-step', { hasText: 'ESTABLISHED' }).first();
    await established.click();
    assert.match(await nowText(page), /conntrack \[UPDATE\].*ESTABLISHED/);
    assert.match(await page.locator('.lv-ct-line.lv-ct-touched').textContent(), /ESTABLISHED.*\[ASSURED\]/);

    await page.keyboard.press('End');
    const total = (await page.locator('.lv-player-pos').textContent()).split('/')[1];
    assert.equal(await page.locator('.lv-player-pos').textContent(), `${total}/${total}`);
    noErrors(page);
  });

  scenario('network trace: a packet card shows the SNAT source before → after; Korean explains the Linux line', async (ctx) => {
    const page = await open(ctx, '#/tool/network');
    await page.locator('.lv-net-trace').waitFor();
    // A click on the SNAT line selects it.
    await page.locator('.lv-trace-step', { hasText: 'home-router: SNAT' }).first().click();
    const changed = page.locator('.lv-packet-card .lv-field.lv-changed');
    assert.equal(await changed.count(), 1, 'only the source address changed');
    assert.equal((await changed.locator('del').textContent()).trim(), '192.168.1.100');
    assert.equal((await changed.locator('ins').textContent()).trim(), '203.0.113.7');
    assert.equal(await changed.getAttribute('data-field'), 'src');
    // The next hop on the wire: the router's TTL and the link's addresses changed too.
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    assert.match(await nowText(page), /home-router wan -> isp cust/);
    const ttl = page.locator('.lv-layer[data-layer=ipv4] .lv-field.lv-changed[data-field=ttl]');
    assert.match(await ttl.textContent(), /64\s*→\s*63/);
    assert.ok(await page.locator('.lv-layer[data-layer=ethernet] .lv-changed').count() >= 1);
    await shot(page, '21-network-packet-card');

    await page.getByRole('button', { name: '한국어' }).click();
    await page.locator('.lv-trace-step', { hasText: 'home-router: SNAT' }).first().click();
    const card = page.locator('.lv-step-card');
    assert.match(await card.locator('.lv-real-line').textContent(), /home-router: SNAT 192\.168\.1\.100\.40000/);
    assert.equal((await card.locator('.lv-step-explain').textContent()).trim().slice(0, 60),
      'home-router가 출발지를 192.168.1.100:40000에서 203.0.113.7:40000으로 바꿉니다(SNAT). 바깥에서는'.slice(0, 60));
    const explained = await page.locator('.lv-trace-explain').allTextContents();
    assert.ok(explained.length > 50 && explained.every((t) => /[가-힣]/.test(t)), 'every trace line has Korean beside it');
    assert.ok(explained.every((t) => !/을\(를\)|이\(가\)|은\(는\)/.test(t)));
    await shot(page, '22-network-trace-ko');
    await page.getByRole('button', { name: 'EN' }).click();
    noErrors(page);
  });

  scenario('network trace: predict the NAT rewrite, graded right and wrong, then revealed', async (ctx) => {
    const page = await open(ctx, '#/tool/network?predict');
    await page.locator('.lv-net-trace').waitFor();
    assert.ok(await page.locator('#lv-net-predict').isChecked(), 'the route turns predictions on');
    // Play stops at the first NAT hop and asks.
    await page.locator('.lv-net-trace').focus();
    await page.keyboard.press('Home');
    await page.locator('#lv-net-speed').selectOption({ label: '8×' });
    await page.getByRole('button', { name: 'Play' }).click();
    await page.locator('.lv-predict').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Play' }).count(), 1, 'play paused');
    assert.equal(await page.locator('.lv-trace-step', { hasText: 'SNAT' }).count(), 0, 'the trace hides the answer');
    assert.equal(await page.locator('.lv-ct-line.lv-ct-touched').count(), 0, 'the table hides it too');
    // Wrong: the private source kept.
    await page.fill('#lv-predict-src', '192.168.1.100');
    await page.fill('#lv-predict-sport', '40000');
    await page.fill('#lv-predict-dst', '8.8.8.8');
    await page.fill('#lv-predict-dport', '53');
    await page.keyboard.press('Enter');
    await page.locator('.lv-predict-result').waitFor();
    assert.match(await page.locator('.lv-predict-result').textContent(), /3 of 4 fields right/);
    const wrong = page.locator('.lv-grade-wrong');
    assert.equal(await wrong.count(), 1);
    assert.match(await wrong.textContent(), /192\.168\.1\.100\s*→\s*203\.0\.113\.7/);
    // Revealed: the real line, its explanation, the card and the conntrack entry it made.
    assert.match(await page.locator('.lv-step-card .lv-real-line').textContent(), /SNAT/);
    assert.match(await page.locator('.lv-ct-line.lv-ct-touched').textContent(), /src=192\.168\.1\.100.*\[UNREPLIED\]/);
    await shot(page, '23-network-predict-wrong');

    // Right, in Korean, at the next NAT hop (the ping's), with a bad field first.
    await page.getByRole('button', { name: '한국어' }).click();
    const next = page.getByRole('button', { name: '한 단계 앞으로' });
    for (let i = 0; i < 40 && !(await page.locator('.lv-predict').count()); i++) await next.click();
    assert.equal(await page.locator('#lv-predict-sport').count(), 0, 'an echo asks for addresses only');
    await page.fill('#lv-predict-src', '203.0.113');
    await page.fill('#lv-predict-dst', '8.8.8.8');
    await page.getByRole('button', { name: '예측 확인' }).click();
    assert.match(await page.locator('#lv-predict-error').textContent(), /^출발지 주소: /);
    await page.fill('#lv-predict-src', '203.0.113.7');
    await page.keyboard.press('Enter');
    assert.match(await page.locator('.lv-predict-result').textContent(), /2개 필드를 모두 맞혔습니다/);
    assert.equal(await page.locator('.lv-grade-right').count(), 2);
    assert.match(await page.locator('.lv-step-card .lv-step-explain').textContent(), /출발지를 192\.168\.1\.100에서 203\.0\.113\.7로 바꿉니다/);
    await shot(page, '24-network-predict-right-ko');
    await page.getByRole('button', { name: 'EN' }).click();
    noErrors(page);
  });
};
