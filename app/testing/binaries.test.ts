// requireBinary finds real executables and names the Debian package for missing ones;
// freePort hands out a port that can be bound.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { findBinary, requireBinary } from './binaries.js';
import { freePort } from './free-port.js';

describe('requireBinary', () => {
  it('finds executables on PATH and in the sbin folders', () => {
    expect(requireBinary('sh', 'dash')).toMatch(/\/sh$/);
    expect(findBinary('/bin/sh')).toBe('/bin/sh');
  });

  it('names the Debian package to install when the binary is missing', () => {
    expect(findBinary('netfs-no-such-binary')).toBeNull();
    expect(() => requireBinary('netfs-no-such-binary', 'netfs-pkg')).toThrow(
      'netfs-no-such-binary not found: install the Debian package netfs-pkg (apt-get install -y netfs-pkg)',
    );
  });
});

describe('freePort', () => {
  it('returns a port on 127.0.0.1 that can be bound right away', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port }, resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });
});
