// The course VM: `web` sized in lesson 6 is the VM lesson 7 starts from, in both languages,
// after a reload, in the exported progress file (the one `labvisor lesson check --progress`
// reads), and back after forgetting it and importing that file.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

module.exports = ({ scenario, open, shot, noErrors, assert, BASE, OUT }) => {
  scenario('course VM: lesson 6 sizes web, lesson 7 starts from it, the progress file carries it', async (ctx) => {
    // Opened alone, lesson 7 starts from the default VM and says so.
    const page = await open(ctx, '#/lesson/disk-allocation/5');
    const seven = page.locator('#exercise-5');
    const sevenNote = seven.locator('.lv-course-vm');
    assert.match(await sevenNote.textContent(), /2 vCPUs and 4096 MiB of RAM \(the default: lesson 6 not done yet\)/);
    assert.equal(await sevenNote.getByRole('button').count(), 0, 'nothing to forget yet');

    // Lesson 6: plan web (the name the form suggests) with 3 vCPUs and 6000 MiB.
    await page.goto(BASE + '#/lesson/host-sizing/4');
    const six = page.locator('#exercise-4');
    assert.match(await six.locator('.lv-course-vm').textContent(), /This is web, the VM the course carries on/);
    assert.equal(await six.getByLabel('Name', { exact: true }).getAttribute('placeholder'), 'web');
    await six.getByLabel('vCPUs', { exact: true }).fill('3');
    await six.getByLabel('RAM (MiB)', { exact: true }).fill('6000');
    await six.getByRole('button', { name: 'Add VM' }).click();
    await six.locator('.lv-step').first().waitFor();
    await six.getByRole('button', { name: 'Check' }).click();
    await six.locator('.lv-verdict-ok').waitFor();
    assert.match(await six.locator('.lv-course-vm-saved').textContent(), /Saved to your progress: web: 3 vCPUs and 6000 MiB of RAM;/);
    await shot(page, '40-course-vm-lesson-6');

    // Lesson 7 now starts from that VM, and gives it a dynamic 128G disk.
    await page.goto(BASE + '#/lesson/disk-allocation/5');
    await sevenNote.getByText(/3 vCPUs and 6000 MiB of RAM \(yours, from lesson 6\)/).waitFor();
    await seven.getByLabel('Size', { exact: true }).fill('128G');
    await seven.getByRole('button', { name: 'Create disk' }).click();
    await seven.locator('.lv-step').first().waitFor();
    await seven.getByRole('button', { name: 'Check' }).click();
    await seven.locator('.lv-verdict-ok').waitFor();
    assert.match(await seven.locator('.lv-course-vm-saved').textContent(), /128 GiB dynamically allocated disk/);
    // The same in Korean, and after a reload (localStorage).
    await page.getByRole('button', { name: '한국어' }).click();
    await sevenNote.getByText(/vCPU 3개, RAM 6000 MiB \(레슨 6에서 내가 정한 것\)/).waitFor();
    await shot(page, '41-course-vm-lesson-7-ko');
    await page.getByRole('button', { name: 'EN' }).click();
    await page.reload();
    await sevenNote.getByText(/\(yours, from lesson 6\)/).waitFor();

    // The exported file is version 2 and holds the VM, as the command line writes it.
    await page.goto(BASE + '#/');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export progress' }).click(),
    ]);
    const exported = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
    assert.equal(exported.version, 2);
    assert.deepEqual(exported['course-vm'].size, { vcpus: 3, 'ram-mib': 6000 });
    assert.deepEqual(exported['course-vm'].disk, { size: 128 * 2 ** 30, allocation: 'dynamic' });
    assert.ok(exported.completed.includes('lesson:host-sizing/4') && exported.completed.includes('lesson:disk-allocation/5'));
    const file = path.join(OUT, 'progress-course-vm.json');
    fs.writeFileSync(file, JSON.stringify(exported));

    // Forgetting the VM brings lesson 7 back to the default; importing the file restores it.
    await page.goto(BASE + '#/lesson/disk-allocation/5');
    await sevenNote.getByRole('button', { name: 'Forget my VM: start from the default' }).click();
    await sevenNote.getByText(/\(the default: lesson 6 not done yet\)/).waitFor();
    await page.goto(BASE + '#/');
    await page.locator('#lv-import-file').setInputFiles(file);
    await page.locator('.lv-notice-info').waitFor();
    await page.goto(BASE + '#/lesson/disk-allocation/5');
    await sevenNote.getByText(/3 vCPUs and 6000 MiB of RAM \(yours, from lesson 6\)/).waitFor();
    noErrors(page);
  });
};
