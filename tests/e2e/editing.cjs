// One way to edit at a time: an exercise's JSON box is an "Advanced" disclosure that puts the
// forms aside while it is open.
'use strict';

module.exports = ({ scenario, open, shot, noErrors, assert }) => {
  // Visible, as a learner sees it (not merely in the DOM).
  const visibleCount = (scope, selector) => scope.locator(selector).filter({ visible: true }).count();

  scenario('editing: an exercise shows the step list and the rule line; JSON waits behind "Advanced"', async (ctx) => {
    const page = await open(ctx, '#/lesson/port-forwarding');
    const ex = page.locator('.lv-exercise').first();
    await ex.locator('input.lv-rule-input').waitFor();
    const editor = ex.locator('.lv-editor');
    const seen = async () => ({
      steps: await visibleCount(editor, 'h3[id$=-steps]'),
      ruleLine: await visibleCount(editor, 'input.lv-rule-input'),
      json: await visibleCount(editor, 'textarea'),
      advanced: await visibleCount(editor, 'details.lv-advanced > summary'),
    });
    // At first: the steps and the rule line; the JSON is one closed "Advanced" line.
    assert.deepEqual(await seen(), { steps: 1, ruleLine: 1, json: 0, advanced: 1 });
    const summary = editor.locator('details.lv-advanced > summary');
    assert.equal((await summary.textContent()).trim(), 'Advanced: edit the steps as JSON');
    // The summary comes after the forms.
    const order = await editor.evaluate((root) => {
      const at = (sel) => [...root.querySelectorAll('*')].indexOf(root.querySelector(sel));
      return { line: at('input.lv-rule-input'), advanced: at('details.lv-advanced') };
    });
    assert.ok(order.advanced > order.line, 'the advanced box comes after the rule line');
    // Opened: the JSON and the list that reads it back; the forms step aside.
    await summary.click();
    await editor.locator('textarea').waitFor();
    assert.deepEqual(await seen(), { steps: 1, ruleLine: 0, json: 1, advanced: 1 });
    await editor.locator('.lv-forms-aside').waitFor();
    await editor.locator('textarea').fill('[{"add-forward": {"name": "ssh", "proto": "tcp", "host-port": 2222, "guest-ip": "10.0.2.5", "guest-port": 22}}]');
    await editor.locator('.lv-step', { hasText: 'Forward TCP host port 2222 to guest 10.0.2.5 port 22' }).waitFor();
    await shot(page, 'editing-advanced-json');
    // Closed again: back to the list and the line.
    await summary.click();
    await editor.locator('input.lv-rule-input').waitFor();
    assert.deepEqual(await seen(), { steps: 1, ruleLine: 1, json: 0, advanced: 1 });
    // The network lab has one way to type a rule and no JSON at all.
    await page.goto(page.url().replace(/#.*$/, '#/tool/network/forward-to-vm2?from=port-forwarding'));
    await page.locator('#lv-net-pf-rule').waitFor();
    assert.equal(await visibleCount(page, 'main textarea'), 0);
    assert.equal(await visibleCount(page, 'main input.lv-rule-input'), 1);
    noErrors(page);
  });
};
