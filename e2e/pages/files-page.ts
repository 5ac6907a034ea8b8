/** Files: the folder list, a row's actions, and the side panel (preview, why). */
import { expect, type Locator, type Page } from '@playwright/test';

export class FilesPage {
  constructor(readonly page: Page) {}

  row(name: string): Locator {
    return this.page.locator(`[data-testid="file-row"][data-name="${name.replace(/["\\]/g, '\\$&')}"]`);
  }

  async openFolder(name: string): Promise<void> {
    await this.row(name).getByRole('button', { name: `Open folder ${name}` }).click();
    await expect(this.page.getByRole('navigation', { name: 'Folder path' }).locator('[aria-current="location"]')).toHaveText(name);
  }

  async toRoot(): Promise<void> {
    const crumbs = this.page.getByRole('navigation', { name: 'Folder path' });
    const root = crumbs.getByRole('button', { name: 'All files' });
    if (await root.count()) await root.click();
  }

  async select(name: string): Promise<void> {
    await this.row(name).getByRole('button', { name: `Show ${name}` }).click();
  }

  preview(): Locator {
    return this.page.getByTestId('preview');
  }

  async why(): Promise<Locator> {
    await this.page.getByRole('tab', { name: 'Why this state?' }).click();
    return this.page.getByTestId('why-panel');
  }
}
