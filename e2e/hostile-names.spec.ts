/**
 * M6 and S3 in Debian Chromium against a real `netfs-sync serve` on a local-folder remote:
 * file names that look like markup, a `javascript:` name, an RTL override and a very long name
 * are shown as text, run nothing and break no layout; the CSP blocks an inline script and an
 * inline event handler injected into the page, and reports the violation.
 */
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppPage } from './pages/app-page.js';
import { FilesPage } from './pages/files-page.js';
import { OverviewPage } from './pages/overview-page.js';
import { startServe, type Served } from './support/serve.js';
import { tempDir } from './support/temp.js';

const IMG = '<img src=x onerror=alert(1)>.txt';
const JS = 'javascript:alert(1).txt';
const RTL = 'invoice\u202Efdp.exe';
const LONG = `${'a-very-long-name-'.repeat(14)}end.txt`;
const FOLDER = '"><svg onload=alert(3)>';

/** Messages the browser logs that are no fault of the page (the host's header parsing). */
const KNOWN_HOST_NOTES = /contains an invalid source: 'ws:\/\/\[::1\]:\*'/;

test.describe.configure({ mode: 'serial' });

let dir: ReturnType<typeof tempDir>;
let served: Served;
let page: Page;
let app: AppPage;

test.beforeAll(async ({ browser }) => {
  dir = tempDir('netfs-e2e-m6-');
  const remote = join(dir.path, 'remote');
  mkdirSync(join(remote, FOLDER), { recursive: true });
  writeFileSync(join(remote, IMG), '<script>alert(2)</script>\n<b>not bold</b>\n');
  writeFileSync(join(remote, JS), 'javascript: text\n');
  writeFileSync(join(remote, RTL), 'MZ not really\n');
  writeFileSync(join(remote, LONG), 'long\n');
  writeFileSync(join(remote, FOLDER, 'inside.txt'), 'inside\n');
  served = await startServe(join(dir.path, 'state'));
  page = await browser.newPage();
  app = new AppPage(page);
  await app.open(served.url);
  const overview = new OverviewPage(page);
  await overview.addAccount({ remote: `file://${remote}`, local: join(dir.path, 'local') });
  await overview.confirmAdd();
  await overview.waitForFirstSync();
});

test.afterAll(async () => {
  await page?.close();
  await served?.stop();
  dir?.remove();
});

test('M6: names that look like markup, javascript: and RTL overrides show as text; nothing runs', async () => {
  await app.go('Files');
  const files = new FilesPage(page);
  const main = page.getByRole('main');
  await expect(files.row(IMG)).toBeVisible();
  await expect(files.row(IMG).getByRole('button', { name: `Show ${IMG}` })).toHaveText(IMG);
  await expect(files.row(JS).getByRole('button', { name: `Show ${JS}` })).toHaveText(JS);
  // The RTL override is made visible instead of reordering the name.
  await expect(files.row(RTL).getByRole('button')).toContainText(['invoice[U+202E]fdp.exe']);
  await expect(files.row(FOLDER).getByRole('button', { name: `Open folder ${FOLDER}` })).toHaveText(FOLDER);
  await expect(main.locator('img, svg[onload], script')).toHaveCount(0);
  // No link anywhere points at a javascript: URL.
  expect(await page.locator('a[href^="javascript:" i]').count()).toBe(0);

  await files.select(IMG);
  await expect(files.preview()).toContainText('<script>alert(2)</script>');
  await expect(files.preview().locator('script, b')).toHaveCount(0);
  await app.screenshot('files-hostile-names');

  await files.openFolder(FOLDER);
  await expect(files.row('inside.txt')).toBeVisible();
  await files.toRoot();

  expect(app.incidents.dialogs).toEqual([]);
  expect(app.incidents.pageErrors).toEqual([]);
  expect(app.incidents.consoleErrors.filter((m) => !KNOWN_HOST_NOTES.test(m))).toEqual([]);
  expect(await app.cspEvents()).toEqual([]);
});

test('M6: a very long name is cut with an ellipsis and never widens the page at 1280×800', async () => {
  await app.go('Files');
  const files = new FilesPage(page);
  const name = files.row(LONG).getByRole('button', { name: `Show ${LONG}` });
  await expect(name).toBeVisible();
  const box = await name.boundingBox();
  expect(box?.width ?? 9999).toBeLessThan(700);
  const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
  expect(widths.scroll).toBeLessThanOrEqual(widths.inner);
  await files.select(LONG);
  const why = await files.why();
  await expect(why).toContainText('real file in the sync folder');
  const after = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(after).toBeLessThanOrEqual(1280);
});

test('S3: the CSP blocks an injected inline script and inline handler, and reports it', async () => {
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__injected = "script ran"';
    document.body.appendChild(s);
    document.body.insertAdjacentHTML('beforeend', '<img id="xss" src="/no-such-image" onerror="window.__injected2 = \'handler ran\'">');
  });
  await expect.poll(() => app.cspEvents()).toEqual(expect.arrayContaining([expect.stringMatching(/^script-src/)]));
  await expect.poll(async () => (await app.cspEvents()).length).toBeGreaterThanOrEqual(2);
  const ran = await page.evaluate(() => [(window as unknown as Record<string, unknown>)['__injected'] ?? null, (window as unknown as Record<string, unknown>)['__injected2'] ?? null]);
  expect(ran).toEqual([null, null]);
  expect(app.incidents.dialogs).toEqual([]);
});
