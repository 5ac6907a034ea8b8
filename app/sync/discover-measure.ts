/**
 * One-off measurement (not a test, not a benchmark row): how long remote discovery of a
 * 50,000-entry tree in 500 folders takes against a real Apache, and the local scan of the same
 * tree, next to `rclone lsf -R` of the same remote.
 *
 *   node --import app/testing/ts-loader.mjs app/sync/discover-measure.ts [runs] [concurrency]
 *   node --cpu-prof --import app/testing/ts-loader.mjs app/sync/discover-measure.ts   (profile)
 *   MEASURE=remote … (remote walks only)
 *   MEASURE=parse …  (the listing parse alone, stage by stage, on the 501 real answers fetched once)
 *
 *   Apache data dir:  20 folders x (24 sub-folders) = 500 folders, 99 files in each = 50,000 entries
 */
import { spawnSync } from 'node:child_process';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createWebdavBackend, type WebdavBackend } from '../remote/webdav/backend.js';
import { resolveHref } from '../remote/webdav/href.js';
import { parseMultistatus, toEntry } from '../remote/webdav/multistatus.js';
import { checkXmlStructure } from '../remote/webdav/xml-scan.js';
import { decodeUtf8Body, MAX_XML_DEPTH, parseXml } from '../remote/webdav/xml.js';
import { startApache } from '../testing/apache.js';
import { discoverRemote } from './discover-remote.js';
import { scanLocal } from './discover-local.js';

const runs = Number(process.argv[2] ?? 5);
const concurrency = Number(process.argv[3] ?? 8);
const OLD = new Date('2024-05-06T07:08:09Z');

async function build(root: string): Promise<void> {
  const writes: Promise<void>[] = [];
  for (let t = 0; t < 20; t++) {
    for (let s = -1; s < 24; s++) {
      const dir = s < 0 ? join(root, `top-${t}`) : join(root, `top-${t}`, `sub-${s}`);
      await mkdir(dir, { recursive: true });
      for (let f = 0; f < 99; f++) writes.push(writeFile(join(dir, `file-${f}.txt`), `t${t} s${s} f${f}`).then(() => utimes(join(dir, `file-${f}.txt`), OLD, OLD)));
      if (writes.length > 2000) await Promise.all(writes.splice(0));
    }
  }
  await Promise.all(writes);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const PROPFIND_BODY =
  '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getcontentlength/><D:getetag/><D:getlastmodified/><D:getcontenttype/></D:prop></D:propfind>';

/**
 * Fetches every folder's PROPFIND answer once, then times each stage of the parse over all of
 * them (best of `runs`, CPU milliseconds of this process, GC included).
 */
async function measureParse(backend: WebdavBackend, auth: string): Promise<Record<string, number>> {
  const folders = ['/', ...[...(await discoverRemote(backend, { concurrency })).tree.values()].filter((e) => e.kind === 'folder').map((e) => e.path)];
  const answers: { url: URL; segments: string[]; body: Uint8Array }[] = [];
  for (const path of folders) {
    const url = backend.url(path, true);
    const res = await fetch(url, { method: 'PROPFIND', headers: { depth: '1', authorization: auth, 'content-type': 'application/xml' }, body: PROPFIND_BODY });
    answers.push({ url, segments: decodeURIComponent(url.pathname).split('/').filter((s) => s !== ''), body: new Uint8Array(await res.arrayBuffer()) });
  }
  const texts = answers.map((a) => decodeUtf8Body(a.body, 'text/xml; charset="utf-8"'));
  const stages: Record<string, () => void> = {
    utf8: () => answers.forEach((a) => decodeUtf8Body(a.body, 'text/xml')),
    scan: () => texts.forEach((t) => checkXmlStructure(t, MAX_XML_DEPTH)),
    parseXml: () => texts.forEach((t) => parseXml(t)),
    whole: () =>
      answers.forEach((a, i) => {
        for (const r of parseMultistatus(parseXml(texts[i]!))) {
          const where = resolveHref(r.href, a.url, a.segments);
          if (where.kind === 'child') toEntry(r, `/x/${where.name}`, where.name);
        }
      }),
  };
  const out: Record<string, number> = { listings: answers.length, megabytes: Math.round(answers.reduce((n, a) => n + a.body.length, 0) / 1e6) };
  for (const [name, stage] of Object.entries(stages)) {
    const cpu: number[] = [];
    for (let i = 0; i < Math.max(runs, 3); i++) {
      const c0 = process.cpuUsage();
      stage();
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    out[`${name}CpuMs`] = Math.round(Math.min(...cpu));
  }
  return out;
}

async function main(): Promise<void> {
  const apache = await startApache();
  try {
    await build(apache.dataDir);
    await apache.fixOwnership();
    const backend = createWebdavBackend({ url: apache.url, user: apache.user, password: apache.password });
    if (process.env['MEASURE'] === 'parse') {
      const auth = `Basic ${Buffer.from(`${apache.user}:${apache.password}`).toString('base64')}`;
      console.log(JSON.stringify(await measureParse(backend, auth)));
      await backend.close();
      return;
    }
    const remote: number[] = [];
    const remoteCpu: number[] = [];
    let size = 0;
    let propfinds = 0;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const d = await discoverRemote(backend, { concurrency });
      remote.push(performance.now() - t0);
      const c1 = process.cpuUsage(c0);
      remoteCpu.push((c1.user + c1.system) / 1000);
      size = d.tree.size;
      propfinds = d.propfinds;
    }
    await backend.close();
    const apacheLog = apache.accessLog().filter((e) => e.method === 'PROPFIND');
    const apacheMsPerWalk = apacheLog.reduce((n, e) => n + e.durationUs, 0) / 1000 / runs;
    if (process.env['MEASURE'] === 'remote') {
      console.log(JSON.stringify({ entries: size, propfinds, concurrency, remoteMs: remote.map(Math.round), remoteMedianMs: Math.round(median(remote)), nodeCpuMsPerWalk: Math.round(median(remoteCpu)), apacheMsPerWalk: Math.round(apacheMsPerWalk) }));
      return;
    }
    const local: number[] = [];
    let localSize = 0;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const s = await scanLocal(apache.dataDir);
      local.push(performance.now() - t0);
      localSize = s.tree.size;
    }
    const both: number[] = [];
    const backend2 = createWebdavBackend({ url: apache.url, user: apache.user, password: apache.password });
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await Promise.all([discoverRemote(backend2, { concurrency }), scanLocal(apache.dataDir)]);
      both.push(performance.now() - t0);
    }
    await backend2.close();
    const rclone = spawnSync('sh', ['-c', 'command -v rclone'], { encoding: 'utf8' }).stdout.trim();
    let rcloneMs: number | null = null;
    if (rclone !== '') {
      const obscured = spawnSync(rclone, ['obscure', apache.password], { encoding: 'utf8' }).stdout.trim();
      const t0 = performance.now();
      const r = spawnSync(rclone, ['lsf', '-R', `:webdav,url='${apache.url}',user=${apache.user},pass=${obscured}:`], { encoding: 'utf8', maxBuffer: 64 << 20 });
      rcloneMs = performance.now() - t0;
      if (r.status !== 0) rcloneMs = null;
    }
    console.log(
      JSON.stringify(
        {
          entries: size,
          propfinds,
          concurrency,
          remoteMs: remote.map(Math.round),
          remoteMedianMs: Math.round(median(remote)),
          nodeCpuMsPerWalk: Math.round(median(remoteCpu)),
          apacheMsPerWalk: Math.round(apacheMsPerWalk),
          localEntries: localSize,
          localMs: local.map(Math.round),
          localMedianMs: Math.round(median(local)),
          bothConcurrentMs: both.map(Math.round),
          bothMedianMs: Math.round(median(both)),
          rcloneLsfMs: rcloneMs === null ? null : Math.round(rcloneMs),
          rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
        },
        null,
        2,
      ),
    );
  } finally {
    await apache.stop();
  }
}

await main();
