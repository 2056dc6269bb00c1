// Lessons 4 and 10 are reachability labs: opened from them, the network lab shows who reaches
// whom (rows from, columns to), each cell the core's reach result with its reason, in both
// languages, following the learner's edits; readable at 1366 and 390 px, and axe-clean.
'use strict';

module.exports = ({ scenario, open, shot, noErrors, axeViolations, assert }) => {
  const LESSON_4 = '#/tool/network/two-vms-modes?from=virtualbox-network-modes';
  const LESSON_10 = '#/tool/network/host-only-second-nic?from=host-only-nic';

  // The matrix as drawn: its column heads, its row heads and every cell's class and text.
  async function readMatrix(page) {
    await page.locator('.lv-reach-table tbody tr').first().waitFor();
    return page.evaluate(() => {
      const table = document.querySelector('.lv-reach-table');
      const cols = [...table.querySelectorAll('thead th')].slice(1).map((th) => th.textContent.trim());
      const rows = {};
      for (const tr of table.querySelectorAll('tbody tr')) {
        const from = tr.querySelector('th').textContent.trim();
        rows[from] = {};
        [...tr.querySelectorAll('td')].forEach((td, i) => {
          rows[from][cols[i]] = {
            cls: td.className,
            verdict: td.querySelector('.lv-reach-verdict')?.textContent ?? '',
            why: td.querySelector('.lv-reach-why')?.textContent ?? '',
          };
        });
      }
      return { cols, rows };
    });
  }

  // Nothing wider than the screen, and no cell whose text is cut.
  async function assertFits(page, where) {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${where}: the page scrolls sideways by ${overflow}px`);
    const cut = await page.evaluate(() => [...document.querySelectorAll('.lv-reach-table th, .lv-reach-table td')]
      .filter((el) => el.getClientRects().length > 0)
      // Stacked rows keep the column heads for screen readers only, in a 1 px clip.
      .filter((el) => !(el.closest('thead') && el.closest('thead').getBoundingClientRect().width <= 1))
      .filter((el) => el.scrollWidth > el.clientWidth + 1)
      .map((el) => el.textContent.slice(0, 40)));
    assert.deepEqual(cut, [], `${where}: cells whose text is cut`);
  }

  for (const [width, height] of [[1366, 900], [390, 844]]) {
    scenario(`reach matrix: lesson 4's lab shows who reaches whom and follows the NICs, at ${width} px`, async (ctx, report) => {
      const page = await open(ctx, LESSON_4);
      await page.setViewportSize({ width, height });
      await page.locator('.lv-reach').waitFor();
      let m = await readMatrix(page);
      assert.deepEqual(m.cols, ['pc', 'vm1', 'vm2', 'dns']);
      assert.deepEqual(Object.keys(m.rows), m.cols, 'rows are the senders, in the same order');
      // Both VMs on NAT: each is 10.0.2.15, so neither reaches the other; both reach the internet.
      assert.match(m.rows.vm1.vm2.cls, /lv-reach-no/);
      assert.equal(m.rows.vm1.vm2.verdict, 'no');
      assert.match(m.rows.vm1.vm2.why, /10\.0\.2\.15 is the sender's own address too/);
      assert.match(m.rows.vm1.dns.cls, /lv-reach-yes/);
      assert.match(m.rows.vm1.dns.why, /reachable at 8\.8\.8\.8/);
      assert.match(m.rows.pc.vm1.why, /isp drops a TCP SYN to 10\.0\.2\.15/);
      assert.match(m.rows.vm1.vm1.cls, /lv-reach-self/);
      // The column's name stands in each cell only where rows are stacked.
      const named = await page.locator('.lv-reach-to').first().isVisible();
      assert.equal(named, width < 640, `cells name their column at ${width} px`);
      await assertFits(page, `lesson 4 at ${width} px`);
      await shot(page, `reach-matrix-04-${width}`);
      const violations = await axeViolations(page);
      if (violations === null) report.push('SKIP: reach matrix accessibility: axe-core is not installed (LABVISOR_AXE)');
      else assert.deepEqual(violations, [], `axe at ${width} px`);
      // The lesson's answer, both NICs on the NAT Network: the VMs reach each other.
      await page.locator('#lv-net-vm0-nic0-mode').selectOption('natnetwork');
      await page.locator('#lv-net-vm1-nic0-mode').selectOption('natnetwork');
      await page.locator('.lv-scene-goal-done').waitFor();
      m = await readMatrix(page);
      assert.match(m.rows.vm1.vm2.cls, /lv-reach-yes/);
      assert.match(m.rows.vm1.vm2.why, /reachable at 10\.0\.2\.5/);
      assert.match(m.rows.vm2.vm1.cls, /lv-reach-yes/);
      assert.match(m.rows.vm2.dns.cls, /lv-reach-yes/);
      // In Korean: the lesson's O and X, and the reasons in Korean.
      await page.getByRole('button', { name: '한국어', exact: true }).click();
      await page.locator('#lv-reach-title', { hasText: '도달 가능성 표' }).waitFor();
      m = await readMatrix(page);
      assert.equal(m.rows.vm1.vm2.verdict, 'O');
      assert.match(m.rows.vm1.vm2.why, /10\.0\.2\.5로 닿습니다/);
      assert.equal(m.rows.pc.vm1.verdict, 'X');
      assert.match(m.rows.pc.vm1.why, /10\.0\.2\.4로 보낸 TCP SYN을 isp가 버립니다/);
      await assertFits(page, `lesson 4 in Korean at ${width} px`);
      await shot(page, `reach-matrix-04-ko-${width}`);
      const ko = await axeViolations(page);
      if (ko !== null) assert.deepEqual(ko, [], `axe in Korean at ${width} px`);
      noErrors(page);
    });
  }

  scenario('reach matrix: lesson 10\'s lab shows the host reaching vm1 once it has a host-only NIC', async (ctx) => {
    const page = await open(ctx, LESSON_10);
    await page.locator('.lv-reach').waitFor();
    let m = await readMatrix(page);
    assert.deepEqual(m.cols, ['pc', 'vm1', 'dns']);
    assert.match(m.rows.pc.vm1.cls, /lv-reach-no/);
    // A second NIC (NAT at first), then on the host-only network.
    await page.getByRole('button', { name: 'Add a NIC' }).click();
    await page.locator('#lv-net-vm0-nic1-mode').selectOption('hostonly');
    await page.locator('.lv-scene-goal-done').waitFor();
    m = await readMatrix(page);
    assert.match(m.rows.pc.vm1.cls, /lv-reach-yes/);
    assert.match(m.rows.pc.vm1.why, /reachable at 192\.168\.56\.10\d/);
    assert.match(m.rows.vm1.dns.cls, /lv-reach-yes/, 'vm1 still reaches the internet through its NAT NIC');
    noErrors(page);
  });

  scenario('reach matrix: only the reachability lessons show it', async (ctx) => {
    const page = await open(ctx, '#/tool/network/forward-to-vm2?from=port-forwarding');
    await page.locator('.lv-scene-goal').waitFor();
    assert.equal(await page.locator('.lv-reach').count(), 0, 'lesson 9 is a trace lab');
    await page.evaluate(() => { location.hash = '#/tool/network'; });
    await page.locator('#lv-net-example').waitFor();
    assert.equal(await page.locator('.lv-reach').count(), 0, 'the free lab has no lesson');
    noErrors(page);
  });
};
