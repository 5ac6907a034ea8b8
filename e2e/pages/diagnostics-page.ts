/** Diagnostics: counters, requests, trace, and the support bundle's preview. */
import { expect, type Locator, type Page } from '@playwright/test';

export class DiagnosticsPage {
  constructor(readonly page: Page) {}

  async prepareBundle(): Promise<Locator> {
    await this.page.getByRole('button', { name: 'Prepare bundle' }).click();
    const preview = this.page.getByTestId('bundle-preview');
    await expect(preview).toBeVisible();
    return preview.getByLabel('Support bundle contents');
  }
}
