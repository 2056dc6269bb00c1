// Each lesson opens its own network lab (its scenario, its goal, a way back), and the
// topology diagram stays readable: no two labels overlap and text stays legible on a phone.
'use strict';

module.exports = ({ scenario, open, shot, noErrors, h1, assert }) => {
  // Every text label of the diagram as it is drawn on screen, and its rendered font size.
  async function diagramLabels(page) {
    await page.locator('.lv-scene-diagram text').first().waitFor();
    return page.evaluate(() => [...document.querySelectorAll('.lv-scene-diagram text')].map((t) => {
      const r = t.getBoundingClientRect();
      const scale = t.getScreenCTM().a;
      return {
        text: t.textContent,
        box: { x: r.left, y: r.top, w: r.width, h: r.height },
        px: parseFloat(getComputedStyle(t).fontSize) * scale,
      };
    }));
  }
  function overlaps(a, b) {
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  }
  function assertNoOverlap(labels, where) {
    for (let i = 0; i < labels.length; i++) {
      for (let j = i + 1; j < labels.length; j++) {
        assert.ok(!overlaps(labels[i].box, labels[j].box),
          `${where}: "${labels[i].text}" and "${labels[j].text}" overlap: ${JSON.stringify([labels[i].box, labels[j].box])}`);
      }
    }
  }

  scenario('lesson labs: lesson 9 opens its own scenario, with its addresses and the way back', async (ctx) => {
    const page = await open(ctx, '#/lesson/port-forwarding');
    await page.getByRole('link', { name: 'Open the lab' }).click();
    await page.locator('.lv-scene-goal').waitFor();
    assert.match(page.url(), /#\/tool\/network\/forward-to-vm2\?from=port-forwarding$/);
    const text = await page.locator('main').textContent();
    assert.match(text, /10\.0\.2\.5/);
    assert.match(text, /203\.0\.113\.20/);
    assert.match(await h1(page), /Lesson 9/);
    // No command line in the lab page itself.
    assert.doesNotMatch(text, /labvisor net run/);
    const back = page.locator('.lv-scene-back');
    assert.equal((await back.textContent()).trim(), '← Lesson 9: Port forwarding (PAT): one rule per service');
    await shot(page, 'lesson-lab-09');
    await back.click();
    await page.waitForURL(/#\/lesson\/port-forwarding$/);
    // The lesson's own commands are labelled as terminal commands.
    await page.locator('.lv-terminal-label').first().waitFor();
    noErrors(page);
  });

  scenario('lesson labs: lesson 3 opens the home network of the lesson', async (ctx) => {
    const page = await open(ctx, '#/lesson/nat');
    await page.getByRole('link', { name: 'Open the lab' }).click();
    await page.locator('.lv-scene-goal').waitFor();
    assert.match(page.url(), /#\/tool\/network\/home-nat\?from=nat$/);
    const diagram = await page.locator('.lv-scene-diagram').textContent();
    assert.match(diagram, /192\.168\.0\.10/);
    assert.match(diagram, /203\.0\.113\.7/);
    assert.match(await page.locator('.lv-scene-back').textContent(), /Lesson 3/);
    noErrors(page);
  });

  scenario('lesson labs: the goal turns Done only after the right forwarding rule', async (ctx) => {
    const page = await open(ctx, '#/tool/network/forward-to-vm2?from=port-forwarding');
    const state = page.locator('.lv-scene-goal-state');
    await state.waitFor();
    assert.equal(await state.textContent(), 'Not yet');
    // An unrelated edit: a packet sent. Still not met.
    await page.locator('#lv-net-send-from').selectOption('internet');
    await page.locator('#lv-net-send-to').fill('203.0.113.20');
    await page.locator('#lv-net-send-port').fill('2022');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.locator('.lv-trace-action', { hasText: '3. internet sends tcp to 203.0.113.20:2022' }).waitFor();
    assert.equal(await state.textContent(), 'Not yet');
    // A rule to the wrong VM: still not met, and the check says where the packet went.
    const rule = page.locator('#lv-net-pf-rule');
    await rule.fill('ssh-vm2:tcp:[]:2222:[10.0.2.4]:22');
    await rule.press('Enter');
    await page.locator('.lv-net-rules code', { hasText: '10.0.2.4' }).nth(1).waitFor();
    assert.equal(await state.textContent(), 'Not yet');
    assert.match(await page.locator('.lv-scene-checks').textContent(), /vm1/);
    // Remove it, then the right rule.
    await page.locator('.lv-net-rules li', { hasText: 'ssh-vm2' }).getByRole('button').click();
    await rule.fill('ssh-vm2:tcp:[]:2222:[10.0.2.5]:22');
    await rule.press('Enter');
    await page.locator('.lv-scene-goal-done').waitFor();
    assert.equal(await state.textContent(), 'Done');
    await shot(page, 'lesson-lab-09-done');
    // In Korean too.
    await page.getByRole('button', { name: '한국어' }).click();
    await page.locator('.lv-scene-goal-state', { hasText: '완료' }).waitFor();
    noErrors(page);
  });

  for (const [width, height] of [[1366, 900], [390, 844]]) {
    scenario(`lesson labs: diagram labels do not overlap at ${width} px`, async (ctx) => {
      const page = await open(ctx, '#/tool/network/two-vms-modes?from=virtualbox-network-modes');
      await page.setViewportSize({ width, height });
      for (const name of ['two-vms-modes', 'forward-to-vm2', 'home-nat', 'host-only-second-nic', 'ssh-into-nat-vm']) {
        await page.evaluate((n) => { location.hash = `#/tool/network/${n}`; }, name);
        await page.locator('.lv-scene-goal').waitFor();
        await page.waitForTimeout(150);
        const labels = await diagramLabels(page);
        assert.ok(labels.length > 8, `${name}: only ${labels.length} labels`);
        assertNoOverlap(labels, `${name} at ${width} px`);
        if (width <= 390) {
          for (const l of labels) assert.ok(l.px >= 10, `${name}: "${l.text}" is ${l.px.toFixed(1)} px`);
        }
      }
      // The free lab's scenarios too.
      await page.evaluate(() => { location.hash = '#/tool/network'; });
      for (const example of ['nat-network', 'home-router', 'port-forward-ssh', 'host-only', 'internal-networks']) {
        await page.locator('#lv-net-example').selectOption(example);
        await page.waitForTimeout(150);
        assertNoOverlap(await diagramLabels(page), `${example} at ${width} px`);
      }
      await shot(page, `lesson-lab-diagram-${width}`);
      noErrors(page);
    });
  }

  scenario('lesson labs: the packet moves along the hop it takes', async (ctx) => {
    const page = await open(ctx, '#/tool/network/home-nat?from=nat');
    await page.locator('.lv-scene-diagram').waitFor();
    const forward = page.getByRole('button', { name: 'Step forward' });
    for (let i = 0; i < 20 && !(await page.locator('.lv-packet-move').count()); i++) await forward.click();
    const motion = page.locator('.lv-packet-move animateMotion');
    assert.equal(await motion.count(), 1, 'a packet in motion');
    assert.match(await motion.getAttribute('path'), /^M[\d. ]+ L/);
    assert.ok((await page.locator('.lv-link-active').count()) >= 1, 'the hop is highlighted');
    noErrors(page);
  });
};
