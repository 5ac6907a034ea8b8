// The conformance suite against `rclone serve webdav`, the quirky second server.
import { startRcloneServe } from '../../testing/rclone-serve.js';
import { createWebdavBackend } from '../webdav/backend.js';
import { defineConformanceSuite } from './suite.js';

defineConformanceSuite(
  'rclone serve webdav',
  async () => {
    const server = await startRcloneServe();
    const backend = createWebdavBackend({ url: server.url, user: server.user, password: server.password });
    return {
      backend,
      writeBehind: async (path, data) => {
        await server.writeFile(path, data);
      },
      close: async () => {
        await backend.close();
        await server.stop();
      },
    };
  },
  // The probe must find rclone serve's gaps: it accepts a PUT and a DELETE whose If-Match fails.
  { ranges: true, ifMatchOnPut: false, ifMatchOnDelete: false, depthInfinity: true },
);
