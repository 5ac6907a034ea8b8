// S2: navigation, new windows and the "open link" path. The web contents and shell are the
// electron test double (electron-double.ts): Electron's binary cannot run on these machines, and
// navigation.ts imports `electron` for types only, so no module mock is needed here.
import { beforeEach, describe, expect, it } from 'vitest';
import { WebContentsDouble, electronDouble, resetElectronDouble } from './electron-double.js';
import { externalUrl, guardNavigation, isAppUrl, openExternalSafely } from './navigation.js';

const HOSTILE = ['https://evil.example', 'https://app.example.attacker.com', 'file:///etc/passwd', 'javascript:alert(document.domain)', 'data:text/html,<script>1</script>', 'http://evil.example', 'app://evil/index.html', 'app://user:pw@netfs/'];

beforeEach(() => resetElectronDouble());

describe('navigation guard (S2)', () => {
  it('will-navigate, will-redirect and will-frame-navigate to anything but app://netfs are prevented', () => {
    const contents = new WebContentsDouble();
    guardNavigation(contents as never, electronDouble.shell);
    for (const url of HOSTILE) {
      expect(contents.navigate('will-navigate', url), url).toBe(true);
      expect(contents.navigate('will-redirect', url), url).toBe(true);
      expect(contents.navigate('will-frame-navigate', url), url).toBe(true);
    }
    expect(contents.navigate('will-navigate', 'app://netfs/index.html')).toBe(false);
    expect(contents.navigate('will-frame-navigate', 'app://netfs/#/transfers')).toBe(false);
  });

  it('every new window is denied; only the https: ones go to the browser', async () => {
    const contents = new WebContentsDouble();
    guardNavigation(contents as never, electronDouble.shell);
    for (const url of [...HOSTILE, 'app://netfs/index.html', 'https://docs.example/help']) expect(contents.openWindow(url), url).toEqual({ action: 'deny' });
    await Promise.resolve();
    expect(electronDouble.shell.opened).toEqual(['https://evil.example/', 'https://app.example.attacker.com/', 'https://docs.example/help']);
  });

  it('openExternal only for parsed https: URLs (smb:, file:, ms-settings:, javascript: and friends refused)', async () => {
    const refused = ['smb://fileserver/share', 'file:///C:/Windows/System32/calc.exe', 'file://server/share', 'ms-settings:privacy', 'javascript:alert(1)', 'http://example.com', 'https://user:pass@example.com/', 'https:', 'not a url', 'HTTPS//example.com', 'vbscript:x', 'ms-msdt:/id', 'search-ms:query=x'];
    for (const url of refused) {
      expect(externalUrl(url), url).toBeNull();
      expect(await openExternalSafely(electronDouble.shell, url), url).toBe(false);
    }
    expect(electronDouble.shell.opened).toEqual([]);
    expect(await openExternalSafely(electronDouble.shell, 'HTTPS://Example.com/a b')).toBe(true);
    expect(electronDouble.shell.opened).toEqual(['https://example.com/a%20b']);
  });

  it('isAppUrl is exact about the origin', () => {
    expect(isAppUrl('app://netfs/x')).toBe(true);
    // Chromium hands over canonical (lower-case) URLs; anything else is simply not ours.
    for (const url of ['app://netfs.evil/x', 'app://evil/netfs', 'https://netfs/', 'app:netfs', 'app://netfs:8080/x', 'APP://NETFS/x']) expect(isAppUrl(url), url).toBe(false);
  });
});
