/** The Overview: "add account" on a fresh state folder, then the sync state and its buttons. */
import { expect, type Page } from '@playwright/test';

export class OverviewPage {
  constructor(readonly page: Page) {}

  async addAccount(a: { remote: string; user?: string; password?: string; local: string }): Promise<void> {
    const p = this.page;
    await expect(p.getByRole('heading', { name: 'Add an account' })).toBeVisible();
    await p.getByLabel('Server address').fill(a.remote);
    await p.getByLabel('User name').fill(a.user ?? '');
    await p.getByLabel('Password').fill(a.password ?? '');
    await p.getByLabel('Sync folder on this computer').fill(a.local);
    await p.getByRole('button', { name: 'Test connection' }).click();
    await expect(p.getByRole('heading', { name: 'What this server does' })).toBeVisible();
  }

  async confirmAdd(): Promise<void> {
    await this.page.getByRole('button', { name: 'Add account' }).click();
    await expect(this.page.getByRole('heading', { name: 'Overview', exact: true })).toBeVisible();
  }

  syncState() {
    return this.page.getByTestId('sync-state');
  }

  async waitForState(state: string, timeout = 30_000): Promise<void> {
    await expect(this.syncState()).toHaveAttribute('data-state', state, { timeout });
  }

  /** The first pass after adding the account has finished (idle is also the state before it starts). */
  async waitForFirstSync(timeout = 60_000): Promise<void> {
    await expect(this.page.getByTestId('last-pass')).toBeVisible({ timeout });
    await this.waitForState('idle', timeout);
  }

  async syncNow(): Promise<void> {
    await this.page.getByRole('button', { name: 'Sync now' }).click();
  }

  count(state: string) {
    return this.page.getByTestId('counts').locator('li', { hasText: state }).locator('.count');
  }
}
