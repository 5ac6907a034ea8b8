/** Settings: one form per setting, saved on its own. */
import { expect, type Page } from '@playwright/test';

export class SettingsPage {
  constructor(readonly page: Page) {}

  async set(label: string, value: string): Promise<void> {
    const input = this.page.getByLabel(label, { exact: true });
    await input.fill(value);
    const form = this.page.locator('form.setting', { has: input });
    await form.getByRole('button', { name: 'Save' }).click();
    await expect(form.getByText('Saved.')).toBeVisible();
  }

  value(label: string) {
    return this.page.getByLabel(label, { exact: true });
  }
}
