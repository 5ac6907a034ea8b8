// The conformance suite against real Apache httpd + mod_dav: the reference server.
import { startApache } from '../../testing/apache.js';
import { createWebdavBackend } from '../webdav/backend.js';
import { defineConformanceSuite } from './suite.js';

defineConformanceSuite(
  'Apache mod_dav',
  async () => {
    const server = await startApache();
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
  // Apache enforces every precondition, honours ranges, refuses Depth: infinity, and its folder
  // ETags change only with their direct children.
  { ranges: true, etags: 'strong', davClasses: ['1', '2'], ifMatchOnPut: true, ifNoneMatchOnPut: true, ifMatchOnDelete: true, folderEtagsPropagate: false, depthInfinity: false },
);
