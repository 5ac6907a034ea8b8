/**
 * A plan that would delete more than half of the synced files (15 of 20; fewer than 10 synced
 * files never hold) is held (DESIGN §6): the overview
 * says sync is waiting, shows the plan's preview, and "Go ahead" (sync.confirm) carries it out.
 * Against a real `netfs-sync serve` on a local-folder remote.
 */
import { expect, test } from '@playwright/test';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppPage } from './pages/app-page.js';
import { OverviewPage } from './pages/overview-page.js';
import { startServe, type Served } from './support/serve.js';
import { tempDir } from './support/temp.js';

let dir: ReturnType<typeof tempDir>;
let served: Served;

test.afterAll(async () => {
  await served?.stop();
  dir?.remove();
});

test('a held plan shows its preview and goes ahead only when confirmed', async ({ page }) => {
  dir = tempDir('netfs-e2e-held-');
  const remote = join(dir.path, 'remote');
  const local = join(dir.path, 'local');
  mkdirSync(remote, { recursive: true });
  for (let i = 1; i <= 20; i++) writeFileSync(join(remote, `file-${i}.txt`), `file ${i}\n`);
  served = await startServe(join(dir.path, 'state'));
  const app = new AppPage(page);
  await app.open(served.url);
  const overview = new OverviewPage(page);
  await overview.addAccount({ remote: `file://${remote}`, local });
  await overview.confirmAdd();
  await overview.waitForFirstSync();
  await expect.poll(() => existsSync(join(local, 'file-20.txt'))).toBe(true);
  await app.go('Settings');
  await page.getByLabel('Wait after a change', { exact: true }).fill('0.1');
  await page.locator('form.setting', { has: page.getByLabel('Wait after a change', { exact: true }) }).getByRole('button', { name: 'Save' }).click();

  for (let i = 1; i <= 15; i++) rmSync(join(local, `file-${i}.txt`));
  await app.go('Overview');
  await overview.syncNow();
  await overview.waitForState('held');
  await expect(page.getByRole('status').filter({ hasText: 'Sync is waiting for you' })).toBeVisible();
  const held = page.getByRole('region', { name: 'Sync is waiting for you' });
  await expect(held).toContainText('file-1.txt');
  await expect(held).toContainText('file-15.txt');
  await app.screenshot('overview-held-plan');
  expect(existsSync(join(remote, 'file-1.txt'))).toBe(true);

  await held.getByRole('button', { name: 'Go ahead with this plan' }).click();
  await overview.waitForState('idle');
  await expect.poll(() => existsSync(join(remote, 'file-1.txt'))).toBe(false);
  expect(existsSync(join(remote, 'file-16.txt'))).toBe(true);
  expect(app.incidents.pageErrors).toEqual([]);
});
