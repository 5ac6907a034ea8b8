// The conformance suite against real Apache httpd + mod_dav: the reference server.
import { startApache } from '../../testing/apache.js';
import { davTarget, defineConformanceSuite } from './suite.js';

defineConformanceSuite(
  'Apache mod_dav',
  async () => davTarget(await startApache()),
  // Apache enforces every precondition, honours ranges, refuses Depth: infinity, and its folder
  // ETags change only with their direct children.
  { ranges: true, etags: 'strong', davClasses: ['1', '2'], ifMatchOnPut: true, ifNoneMatchOnPut: true, ifMatchOnDelete: true, folderEtagsPropagate: false, depthInfinity: false },
);
