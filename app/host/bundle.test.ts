import { describe, expect, it } from 'vitest';
import { buildBundle } from './bundle.js';
import { Pseudonyms } from './pseudonyms.js';

describe('support bundle: no secret, no file name unless asked', () => {
  it('pseudonyms are consistent per name, keep the tree shape and a short extension, and leave non-paths alone', () => {
    const p = new Pseudonyms();
    const a = p.path('/docs/report.pdf');
    const b = p.path('/docs/other/report.pdf');
    expect(a).toMatch(/^\/n\d+\/n\d+\.pdf$/);
    expect(b.split('/')[1]).toBe(a.split('/')[1]);
    expect(b.split('/')[3]).toBe(a.split('/')[2]);
    expect(p.text('download failed: /docs/report.pdf (412)')).toBe(`download failed: ${a} (412)`);
    expect(p.text('Reads  : DR=0 RA=12 3/4 text/plain 2026-01-02T03:04:05Z')).toBe('Reads  : DR=0 RA=12 3/4 text/plain 2026-01-02T03:04:05Z');
    // Already pseudonymised text stays as it is.
    expect(p.text(`see ${a}`)).toBe(`see ${a}`);
  });

  it('known disk paths are replaced whole (not inside a longer name); names with spaces are found whole', () => {
    const p = new Pseudonyms();
    p.addKnown(['/home/ann/My Sync', '/home/ann/My Sync/tax return 2025.pdf']);
    const out = p.text('placed "/home/ann/My Sync/tax return 2025.pdf" near /home/ann/My Syncthing');
    const root = p.path('/home/ann/My Sync');
    expect(out.startsWith(`placed "${root}/`)).toBe(true);
    expect(out).not.toContain('tax return');
    expect(out).not.toContain('ann');
    // "/home/ann/My Syncthing" is not the known root followed by "thing": the root's pseudonym is not used for it.
    expect(out).not.toContain(`${root}thing`);
  });

  it('without includePaths: no path, name, sync root or password anywhere; with it: paths kept, password still out', () => {
    const password = 'pa"ss\\word-Ω-77';
    const input = {
      nowMs: Date.UTC(2026, 0, 2, 3, 4, 5),
      secrets: [password],
      diskPaths: ['/srv/private/Sync', '/srv/private/state'],
      remotePaths: ['/Clients/ACME corp/contract.docx', '/Clients', '/Clients/ACME corp'],
      account: { remote: 'https://dav.example.com/remote.php/dav/files/ann/', user: 'ann', local: '/srv/private/Sync' },
      sections: {
        failures: [{ path: '/Clients/ACME corp/contract.docx', message: `PUT /Clients/ACME corp/contract.docx failed with ${password}` }],
        logs: [{ message: 'placed /srv/private/Sync/Clients/ACME corp/contract.docx', path: '/Clients/ACME corp/contract.docx' }],
        status: { account: { remote: 'https://dav.example.com/remote.php/dav/files/ann/', local: '/srv/private/Sync' } },
      },
    };
    const hidden = buildBundle({ ...input, includePaths: false });
    expect(hidden.fileName).toBe('netfs-sync-support-2026-01-02T03-04-05-000Z.json');
    const doc = JSON.parse(hidden.json) as { account: { remote: string; user: string }; pathsIncluded: boolean };
    expect(doc.pathsIncluded).toBe(false);
    for (const word of ['ACME', 'contract.docx', 'Clients', 'private', 'remote.php', 'files/ann', password, JSON.stringify(password).slice(1, -1)]) expect(hidden.json).not.toContain(word);
    expect(doc.account.remote).toMatch(/^https:\/\/dav\.example\.com(\/n\d+(\.php)?)+\/$/);
    expect(hidden.json).toContain('.docx');
    const shown = buildBundle({ ...input, includePaths: true });
    expect(shown.json).toContain('/Clients/ACME corp/contract.docx');
    expect(shown.json).not.toContain(JSON.stringify(password).slice(1, -1));
    expect(shown.json).toContain('[redacted]');
  });
});
