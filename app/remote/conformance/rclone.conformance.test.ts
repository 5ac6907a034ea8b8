// The conformance suite against `rclone serve webdav`, the quirky second server.
import { startRcloneServe } from '../../testing/rclone-serve.js';
import { davTarget, defineConformanceSuite } from './suite.js';

defineConformanceSuite(
  'rclone serve webdav',
  async () => davTarget(await startRcloneServe()),
  // The probe must find rclone serve's gaps: it accepts a PUT and a DELETE whose If-Match fails.
  // It ignores If-None-Match: * on PUT as well.
  { ranges: true, ifMatchOnPut: false, ifNoneMatchOnPut: false, ifMatchOnDelete: false, depthInfinity: true },
);
