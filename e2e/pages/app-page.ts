/**
 * The app as a whole: open it from the UI line, go to a view by its labelled link, wait on the
 * event streams' sequence numbers (in-app signals, not sleeps), take a screenshot of a view,
 * and watch for what must never happen (a dialog, a page error, a CSP violation, a console
 * error).
 */
import { expect, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { SCREENSHOTS } from '../support/paths.js';

export type ViewName = 'Overview' | 'Transfers' | 'Cache' | 'Retries & conflicts' | 'Files' | 'Diagnostics' | 'Settings';
export type StreamAttr = 'sync-status' | 'transfers' | 'retries' | 'cache-occupancy' | 'log';

export interface Incidents {
  dialogs: string[];
  pageErrors: string[];
  consoleErrors: string[];
  cspViolations: string[];
}

export class AppPage {
  readonly incidents: Incidents = { dialogs: [], pageErrors: [], consoleErrors: [], cspViolations: [] };

  constructor(readonly page: Page) {
    page.on('dialog', (d) => {
      this.incidents.dialogs.push(`${d.type()}: ${d.message()}`);
      void d.dismiss();
    });
    page.on('pageerror', (e) => this.incidents.pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const text = m.text();
      if (/Content Security Policy/i.test(text)) this.incidents.cspViolations.push(text);
      this.incidents.consoleErrors.push(text);
    });
  }

  async open(url: string): Promise<void> {
    await this.page.addInitScript(() => {
      const w = window as unknown as { __csp: string[] };
      w.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await this.page.goto(url);
    await expect(this.page.getByTestId('stream-seqs')).toHaveAttribute('data-connection', 'open');
  }

  /** CSP violations the page itself saw (securitypolicyviolation events). */
  async cspEvents(): Promise<string[]> {
    return this.page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
  }

  async go(view: ViewName): Promise<void> {
    await this.page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: view, exact: false }).first().click();
    await expect(this.page.getByRole('main')).toHaveAccessibleName(view);
  }

  async seq(stream: StreamAttr): Promise<number> {
    return Number(await this.page.getByTestId('stream-seqs').getAttribute(`data-${stream}`));
  }

  /** Waits until the stream has delivered a snapshot newer than `after`. */
  async nextSnapshot(stream: StreamAttr, after: number, timeout = 20_000): Promise<number> {
    await expect.poll(() => this.seq(stream), { timeout }).toBeGreaterThan(after);
    return this.seq(stream);
  }

  async screenshot(name: string): Promise<string> {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const path = `${SCREENSHOTS}/${name}.png`;
    await this.page.screenshot({ path, fullPage: false });
    return path;
  }

  banner(testId: string) {
    return this.page.getByTestId(testId);
  }
}
