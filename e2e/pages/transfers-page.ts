/** Transfers: live requests, their subrequest strips, the finished history. */
import type { Locator, Page } from '@playwright/test';

export class TransfersPage {
  constructor(readonly page: Page) {}

  transfer(path: string): Locator {
    return this.page.getByTestId('transfer').filter({ hasText: path });
  }

  async expand(path: string): Promise<Locator> {
    const t = this.transfer(path);
    await t.getByRole('button', { name: /Subrequests/ }).click();
    return t.locator('.strip-svg');
  }

  finished(): Locator {
    return this.page.getByTestId('finished-transfers');
  }
}
