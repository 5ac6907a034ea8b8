// Playwright: the renderer in Debian Chromium against a real `netfs-sync serve` (issue 8).
// `npx playwright test -c e2e` (npm test runs it with a JSON reporter). Browsers cannot be
// downloaded here, so Debian's /usr/bin/chromium is launched (apt-get install chromium).
import { defineConfig } from '@playwright/test';

export const CHROMIUM = '/usr/bin/chromium';

export const config = defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  outputDir: '../test-output/playwright',
  globalSetup: './global-setup.ts',
  timeout: 120_000,
  expect: { timeout: 20_000 },
  workers: 2,
  fullyParallel: false,
  retries: 0,
  forbidOnly: true,
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    actionTimeout: 15_000,
  },
});

// eslint-disable-next-line no-restricted-syntax -- Playwright reads the config's default export
export default config;
