// One way to edit at a time, and a refusal said once: a forwarding rule the lab refuses is
// explained in one place, under the rule line, as an alert; an exercise's JSON box is an
// "Advanced" disclosure that puts the forms aside while it is open.
'use strict';

module.exports = ({ scenario, open, shot, noErrors, assert }) => {
  // The innermost elements of the page whose text holds `message` (an element whose child
  // holds it too is not counted, so each place it is written counts once).
  async function placesSaying(page, message) {
    return page.evaluate((m) => [...document.querySelectorAll('main *')]
      .filter((el) => el.textContent.includes(m) && ![...el.children].some((c) => c.textContent.includes(m)))
      .map((el) => ({
        tag: el.tagName,
        alert: el.closest('[role=alert]') !== null,
        besideRuleLine: el.closest('.lv-rule-field')?.querySelector('#lv-net-pf-rule') !== null
          && el.closest('.lv-rule-field') !== null,
        visible: el.getClientRects().length > 0,
      })), message);
  }
  async function assertSaidOnceAtTheLine(page, message) {
    await page.locator('#lv-net-pf-rule-read [role=alert]', { hasText: message }).waitFor();
    const places = await placesSaying(page, message);
    assert.equal(places.length, 1, `"${message}" is written once: ${JSON.stringify(places)}`);
    assert.ok(places[0].alert && places[0].besideRuleLine && places[0].visible,
      `under the rule line, as an alert: ${JSON.stringify(places)}`);
    assert.equal(await page.locator('#lv-net-feedback').count(), 0, 'no second message in the panel');
    assert.equal(await page.locator('#lv-net-pf-rule').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#lv-net-pf-rule').getAttribute('aria-describedby'), 'lv-net-pf-rule-read');
  }

  scenario('editing: a refused forwarding rule is said once, under the line, as an alert', async (ctx) => {
    const page = await open(ctx, '#/tool/network');
    await page.locator('#lv-net-example').selectOption('port-forward-ssh');
    await page.locator('h2.lv-net-title', { hasText: 'SSH into a VM' }).waitFor();
    const rule = page.locator('#lv-net-pf-rule');
    // A malformed rule, submitted with Enter.
    await rule.fill('web,tcp,,80000,,22');
    // While typing, the reading is polite, not an alert.
    await page.locator('#lv-net-pf-rule-read[aria-live=polite]', { hasText: '"80000" is not a number in 1-65535' }).waitFor();
    assert.equal(await page.locator('main [role=alert]').count(), 0, 'no alert before the learner submits');
    await rule.press('Enter');
    await assertSaidOnceAtTheLine(page, '"80000" is not a number in 1-65535');
    // A host port already forwarded, submitted with the button.
    await rule.fill('other,tcp,,2222,,22');
    await page.getByRole('button', { name: 'Add rule' }).click();
    await assertSaidOnceAtTheLine(page, 'already forwarded by rule "tcp2222"');
    await shot(page, 'editing-refused-rule');
    // In Korean the same place says it in Korean, once.
    await page.getByRole('button', { name: '한국어' }).click();
    await assertSaidOnceAtTheLine(page, '이미 다른 규칙에서 포워딩하고 있습니다: "tcp2222"');
    await page.getByRole('button', { name: 'EN' }).click();
    // Typing again: the alert gives way to the reading, and a good rule is added.
    await rule.fill('tcp::8080-:22');
    await page.locator('#lv-net-pf-rule-read .lv-rule-ok', { hasText: "Read as QEMU's hostfwd form" }).waitFor();
    assert.equal(await page.locator('main [role=alert]').count(), 0, 'the refusal went with the text');
    await rule.press('Enter');
    await page.locator('#lv-net-feedback.lv-net-ok, #lv-net-feedback .lv-net-ok', { hasText: 'tcp8080' }).waitFor();
    assert.equal(await rule.inputValue(), '', 'the line is cleared once the rule is in');
    // Another rule on the host port just forwarded is a clash: said once again.
    await rule.fill('web2,tcp,,8080,,80');
    await rule.press('Enter');
    await assertSaidOnceAtTheLine(page, 'already forwarded by rule "tcp8080"');
    noErrors(page);
  });

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
