/** Cache: the per-file occupancy rows. */
import type { Locator, Page } from '@playwright/test';

export class CachePage {
  constructor(readonly page: Page) {}

  object(key: string): Locator {
    return this.page.locator(`[data-testid="cache-object"][data-key="${key.replace(/["\\]/g, '\\$&')}"]`);
  }
}
