/**
 * The support bundle (diagnostics.bundle): what support staff need to see why a transfer is
 * slow, stuck or failing, in one JSON document, with no secret in it and, unless the user
 * says otherwise, no file name either.
 *
 *   config (account without secret, settings, capabilities) + status + last pass
 *   + counters (netfs, FS-Cache, cache state) + live requests + recent trace + recent log lines
 *   + failures, conflicts, trash (metadata only)
 *        --includePaths false--> every path through Pseudonyms (consistent per name)
 *        --> JSON; the password, if it still shows up anywhere, is replaced (belt and braces)
 */
import { CONTRACT_VERSION } from '../api/contract.js';
import { Pseudonyms } from './pseudonyms.js';

export interface BundleInput {
  nowMs: number;
  includePaths: boolean;
  /** Secrets that must not appear (the password). */
  secrets: readonly string[];
  /** Absolute disk paths to hide besides the remote paths: the sync root, the state folder, home. */
  diskPaths: readonly string[];
  /** Remote paths the journal knows (so they are found in free text too). */
  remotePaths: readonly string[];
  account: { remote: string; user: string | null; local: string } | null;
  sections: Record<string, unknown>;
}

/** The remote URL with its path hidden (scheme and host stay: they say which server). */
function hideUrlPath(url: string, p: Pseudonyms): string {
  try {
    const u = new URL(url);
    if (u.protocol === 'file:') return `file://${p.path(decodeURIComponent(u.pathname))}`;
    return `${u.protocol}//${u.host}${p.path(decodeURIComponent(u.pathname).replace(/\/$/, ''))}/`;
  } catch {
    return '(unparseable URL)';
  }
}

export function buildBundle(input: BundleInput): { fileName: string; json: string } {
  const stamp = new Date(input.nowMs).toISOString().replace(/[:.]/g, '-');
  const p = new Pseudonyms();
  // Remote paths the shape-based pass would cut short (a space, a quote, a bracket …) are looked for whole.
  const odd = input.remotePaths.filter((r) => /[\s"'()[\],]/.test(r));
  const local = input.account?.local;
  p.addKnown([...input.diskPaths, ...odd, ...(local === undefined ? [] : odd.map((r) => `${local}${r}`))]);
  const hiddenUrl = input.account === null ? null : hideUrlPath(input.account.remote, p);
  if (input.account !== null && hiddenUrl !== null) p.addLiteral(input.account.remote, hiddenUrl);
  const account =
    input.account === null
      ? null
      : {
          remote: input.account.remote,
          user: input.account.user,
          local: input.account.local,
          password: '(not included)',
        };
  const doc = {
    kind: 'netfs-sync support bundle',
    format: 1,
    contractVersion: CONTRACT_VERSION,
    createdMs: input.nowMs,
    pathsIncluded: input.includePaths,
    platform: { node: process.version, platform: process.platform, arch: process.arch },
    account,
    ...input.sections,
  };
  const shown = input.includePaths ? doc : p.deep(doc);
  let json = JSON.stringify(shown, null, 2);
  for (const s of input.secrets) if (s.length > 0 && json.includes(s)) json = json.split(s).join('[redacted]');
  for (const s of input.secrets) {
    const escaped = JSON.stringify(s).slice(1, -1);
    if (s.length > 0 && json.includes(escaped)) json = json.split(escaped).join('[redacted]');
  }
  return { fileName: `netfs-sync-support-${stamp}.json`, json };
}
