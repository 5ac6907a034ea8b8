// The test-support library in one import: real WebDAV servers (Apache mod_dav, rclone serve
// webdav), a byte-exact replay server for crafted responses, a fault proxy to put in front of a
// real server (resets, hangs, truncation, made-up statuses, throttling), and small helpers.
export { requireBinary, findBinary } from './binaries.js';
export { freePort } from './free-port.js';
export { startApache } from './apache.js';
export type { ApacheOptions, ApacheServer, AccessLogEntry } from './apache.js';
export { startRcloneServe } from './rclone-serve.js';
export type { RcloneServeOptions, RcloneServer } from './rclone-serve.js';
export type { DavServer } from './dav-server.js';
export { startReplayServer } from './replay-server.js';
export type { RecordedRequest, ReplayHandler, ReplayServer, ReplayServerOptions } from './replay-server.js';
export type { ChunkedOptions, DripOptions, Reply, SendSpec } from './replay-reply.js';
export { chunkBytes, FINAL_CHUNK, responseBytes, responseHead, toBuffer } from './http-bytes.js';
export type { Bytes, HeaderInput, ResponseSpec } from './http-bytes.js';
export { escapeXml, multistatus, multistatusResponse, statusLine } from './multistatus.js';
export type { DavProps, MultistatusEntry, MultistatusOptions, Propstat } from './multistatus.js';
export { basicAuth, httpRequest } from './http-client.js';
export type { HttpRequestOptions, HttpResponse } from './http-client.js';
export { startFaultProxy } from './fault-proxy.js';
export type { FaultProxy, FaultProxyOptions } from './fault-proxy.js';
export { seededRandom } from './fault-proxy-rules.js';
export { MAINTENANCE_BODY, retryAfterValue } from './fault-proxy-answers.js';
export type {
  CutAction,
  CutPoint,
  DelayAction,
  DropPreconditionsAction,
  FaultAction,
  FaultActionFactory,
  FaultActionKind,
  FaultMatch,
  FaultProxyStats,
  FaultRule,
  FaultRuleHandle,
  HangAction,
  IgnoreRangeAction,
  PassAction,
  PathMatch,
  ProxiedOutcome,
  ProxiedRequest,
  StatusAction,
  ThrottleAction,
  TruncateAction,
  WeakEtagsAction,
} from './fault-proxy-types.js';
