// Exercises that teach: a Check on nothing gives nothing away, the first hint asked for adds to
// the feedback, a right answer says why, Show solution enters its steps one after another,
// Enter checks a written answer, and one rule line reads VirtualBox's and QEMU's forms and says
// which it read, in the exercises and in the network lab alike.
'use strict';

module.exports = ({ scenario, open, shot, noErrors, assert, BASE }) => {
  const exercise = (page, n) => page.locator('.lv-exercise').nth(n - 1);

  scenario('exercises: an empty Check gives no answer away, hint 1 is not the feedback, a right answer says why', async (ctx) => {
    const page = await open(ctx, '#/lesson/port-forwarding');
    const ex = exercise(page, 1);
    // Check with no step: lesson 9's rule (host 2222 → 10.0.2.5:22) must not appear.
    await ex.getByRole('button', { name: 'Check' }).click();
    const empty = await ex.locator('.lv-verdict-bad').textContent();
    assert.match(empty, /You have not added a step yet/);
    assert.doesNotMatch(empty, /10\.0\.2\.5|,2222,|port 22\b|2222-/, `an empty Check reveals the rule: ${empty}`);
    // The second exercise's feedback claims nothing the learner has not done.
    const ex2 = exercise(page, 2);
    await ex2.getByRole('button', { name: 'Check' }).click();
    assert.doesNotMatch(await ex2.locator('.lv-verdict-bad').textContent(), /SSH works/);
    // A wrong rule: feedback for its mistake; the first hint asked for says something else.
    const rule = ex.locator('input.lv-rule-input');
    await rule.fill('ssh,tcp,,2222,10.0.2.5,2222');
    await rule.press('Enter');
    await ex.locator('.lv-step').first().waitFor();
    await ex.getByRole('button', { name: 'Check' }).click();
    const feedback = (await ex.locator('.lv-verdict-hint').textContent()).trim();
    assert.match(feedback, /nothing listens/);
    await ex.getByRole('button', { name: 'Hint' }).click();
    const hint1 = (await ex.locator('.lv-hints li').first().textContent()).trim();
    assert.notEqual(hint1, feedback, 'hint 1 repeats the feedback');
    assert.ok(!feedback.includes(hint1) && !hint1.includes(feedback), `hint 1 and the feedback overlap: ${hint1}`);
    assert.doesNotMatch(hint1, /10\.0\.2\.5/, 'hint 1 is a nudge, not the answer');
    // The ladder climbs to the answer.
    await ex.getByRole('button', { name: 'Hint' }).click();
    await ex.getByRole('button', { name: 'Hint' }).click();
    assert.equal(await ex.locator('.lv-hints li').count(), 3);
    assert.match(await ex.locator('.lv-hints li').last().textContent(), /10\.0\.2\.5/);
    assert.ok(await ex.getByRole('button', { name: 'Hint' }).isDisabled(), 'no hint past the last');
    // Mend the step; a right answer is told why it is right.
    await ex.getByRole('button', { name: 'Remove step 1' }).click();
    await rule.fill('ssh,tcp,,2222,10.0.2.5,22');
    await rule.press('Enter');
    await ex.getByRole('button', { name: 'Check' }).click();
    const why = ex.locator('.lv-verdict-ok .lv-verdict-why');
    await why.waitFor();
    assert.match(await why.textContent(), /^Why:.*NAT Network/);
    // A choice question too, in Korean.
    await page.getByRole('button', { name: '한국어' }).click();
    const choice = exercise(page, 6);
    await choice.locator('.lv-choice', { hasText: '라우팅 테이블을 보고' }).click();
    await choice.getByRole('button', { name: '채점' }).click();
    assert.match(await choice.locator('.lv-verdict-ok .lv-verdict-why').textContent(), /^왜 그런가:/);
    await shot(page, '30-exercises-why');
    noErrors(page);
  });

  scenario('exercises: Show solution enters the steps one after another and clears the old verdict', async (ctx) => {
    const page = await open(ctx, '#/lesson/port-forwarding');
    const ex = exercise(page, 2);
    await ex.getByRole('button', { name: 'Check' }).click();
    await ex.locator('.lv-verdict-bad').waitFor();
    // Record how many steps the list holds each time it changes.
    await page.evaluate(() => {
      const card = document.querySelectorAll('.lv-exercise')[1];
      window.stepCounts = [];
      new MutationObserver(() => {
        const n = card.querySelectorAll('.lv-step').length;
        if (window.stepCounts[window.stepCounts.length - 1] !== n) window.stepCounts.push(n);
      }).observe(card, { childList: true, subtree: true });
    });
    await ex.getByRole('button', { name: 'Show solution' }).click();
    assert.equal(await ex.locator('.lv-verdict-bad').count(), 0, 'the old verdict is gone');
    await ex.locator('.lv-solution-status', { hasText: 'Solution, step 1 of 2' }).waitFor();
    await ex.locator('.lv-step').nth(1).waitFor();
    await page.waitForFunction(() => !document.querySelectorAll('.lv-exercise')[1].hasAttribute('aria-busy'));
    const counts = await page.evaluate(() => window.stepCounts);
    assert.deepEqual(counts.filter((n) => n > 0), [1, 2], `the steps appear one after another: ${counts}`);
    await ex.getByRole('button', { name: 'Check' }).click();
    await ex.locator('.lv-verdict-ok').waitFor();
    // A written answer is typed in, not dropped in.
    const docker = exercise(page, 4);
    await page.evaluate(() => {
      const input = document.querySelectorAll('.lv-exercise')[3].querySelector('input.lv-answer');
      window.typed = [];
      window.typing = setInterval(() => {
        if (window.typed[window.typed.length - 1] !== input.value) window.typed.push(input.value);
      }, 5);
    });
    await docker.getByRole('button', { name: 'Show solution' }).click();
    await page.waitForFunction(() => !document.querySelectorAll('.lv-exercise')[3].hasAttribute('aria-busy'));
    const typed = await page.evaluate(() => { clearInterval(window.typing); return window.typed; });
    assert.equal(typed[typed.length - 1], '-p 8080:80');
    assert.ok(typed.filter((t) => t && t !== '-p 8080:80').length >= 2, `typed in frames: ${JSON.stringify(typed)}`);
    await shot(page, '31-exercises-solution');
    noErrors(page);
  });

  scenario('exercises: Enter checks an answer; the rule line reads QEMU and VirtualBox forms and says which', async (ctx) => {
    const page = await open(ctx, '#/lesson/port-forwarding');
    const docker = exercise(page, 4);
    const answer = docker.locator('input.lv-answer');
    await answer.fill('-p 80:8080');
    await answer.press('Enter');
    await docker.locator('.lv-verdict-bad', { hasText: 'swapped' }).waitFor();
    await answer.fill('-p 8080:80');
    await answer.press('Enter');
    await docker.locator('.lv-verdict-ok').waitFor();
    // One line, several forms, each named.
    const ex = exercise(page, 1);
    const rule = ex.locator('input.lv-rule-input');
    const read = ex.locator('.lv-rule-read');
    await rule.fill('tcp::2222-10.0.2.5:22');
    await read.locator('.lv-rule-ok', { hasText: "Read as QEMU's hostfwd form" }).waitFor();
    await rule.fill('ssh,tcp,,2222,10.0.2.5,22');
    await read.locator('.lv-rule-ok', { hasText: "Read as VirtualBox's form" }).waitFor();
    await rule.fill('ssh 2222 to 22');
    const wrong = await read.textContent();
    assert.match(wrong, /VirtualBox/);
    assert.match(wrong, /QEMU/);
    // Korean: the form named, and particles that follow the number (2222를, 22로).
    await page.getByRole('button', { name: '한국어' }).click();
    await rule.fill('tcp::2222-10.0.2.5:22');
    await read.locator('.lv-rule-ok', { hasText: 'QEMU의 hostfwd 형식' }).waitFor();
    assert.match(await read.textContent(), /포트 2222를 게스트 10\.0\.2\.5 포트 22로 포워딩/);
    await rule.press('Enter');
    await ex.locator('.lv-step', { hasText: '포트 2222를' }).waitFor();
    await page.getByRole('button', { name: 'EN' }).click();
    // The network lab takes the same line.
    await page.goto(BASE + '#/tool/network');
    await page.locator('#lv-net-example').selectOption('port-forward-ssh');
    await page.locator('#lv-net-pf-rule').fill('tcp::8080-:22');
    await page.locator('#lv-net-pf-rule-read', { hasText: "Read as QEMU's hostfwd form" }).waitFor();
    await page.locator('#lv-net-pf-rule').fill('web,tcp,,8080,,22');
    await page.locator('#lv-net-pf-rule-read', { hasText: "Read as VirtualBox's form" }).waitFor();
    await page.locator('#lv-net-pf-rule').press('Enter');
    await page.locator('.lv-net-rules code', { hasText: 'web,tcp,,8080,,22' }).waitFor();
    assert.match(await page.locator('.lv-net-edit').textContent(), /1 edit$/, 'one edit, not "1 edits"');
    await shot(page, '32-rule-line');
    noErrors(page);
  });

  scenario('exercises: the remove-rule form lists the rules the broken lab came with', async (ctx) => {
    const page = await open(ctx, '#/lesson/port-forwarding');
    const fix = exercise(page, 5);
    const remove = fix.locator('form', { hasText: 'Remove a rule' });
    await remove.waitFor();
    assert.match(await remove.locator('select').textContent(), /ssh \(ssh,tcp,,2222,,22\)/);
    await remove.getByRole('button', { name: 'Remove rule' }).click();
    await fix.locator('.lv-step', { hasText: 'Remove the forwarding rule “ssh”' }).waitFor();
    await fix.locator('input.lv-rule-input').fill('ssh,tcp,,2222,,22');
    await fix.locator('select').first().selectOption('vm2');
    await fix.locator('input.lv-rule-input').press('Enter');
    await fix.getByRole('button', { name: 'Check' }).click();
    await fix.locator('.lv-verdict-ok').waitFor();
    noErrors(page);
  });
};
