/** Retries & conflicts: failing items and conflicts with their actions. */
import type { Locator, Page } from '@playwright/test';

export class ProblemsPage {
  constructor(readonly page: Page) {}

  failure(path: string): Locator {
    return this.page.getByTestId('failure').filter({ hasText: path });
  }

  conflict(path: string): Locator {
    return this.page.locator(`[data-testid="conflict"][data-path="${path.replace(/["\\]/g, '\\$&')}"]`);
  }

  async keep(path: string, keep: 'Keep mine' | 'Keep theirs' | 'Keep both'): Promise<void> {
    await this.conflict(path).getByRole('button', { name: `${keep}: ${path}` }).click();
  }
}
