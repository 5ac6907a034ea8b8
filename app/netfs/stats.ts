/**
 * The engine's counters, with the names and meanings of /proc/fs/netfs/stats (digest §6.1)
 * and the FS-Cache block (§6.3). C = count (only grows), G = gauge (live objects).
 *
 *   Reads  : DR RA RF RS WB WBZ        Writes : BW WT DW WP 2C
 *   ZeroOps: ZR sh sk                  DownOps: DL ds df di      CaRdOps: RD rs rf
 *   UpldOps: UL us uf                  CaWrOps: WR ws wf         Retries: rq rs wq ws
 *   Objs   : rr sr bq wsc (G, G, G, C) WbLock : skip wait
 *   FS-Cache: Cookies n v vcol voom · Acquire n ok oom · Invals n · Updates n rsz rsn ·
 *             Relinqs n rtr drop · NoSpace nwr ncr cull · IO rd wr mis
 *
 * Our origins map onto the read/write lines as: download -> RA, on-demand read -> RF,
 * unbuffered read -> DR, upload -> WP, unbuffered write -> DW, copy-to-cache -> 2C.
 */
export function newNetfsStats() {
  return {
    reads: { DR: 0, RA: 0, RF: 0, RS: 0, WB: 0, WBZ: 0 },
    writes: { BW: 0, WT: 0, DW: 0, WP: 0, '2C': 0 },
    zeroOps: { ZR: 0, sh: 0, sk: 0 },
    downOps: { DL: 0, ds: 0, df: 0, di: 0 },
    caRdOps: { RD: 0, rs: 0, rf: 0 },
    upldOps: { UL: 0, us: 0, uf: 0 },
    caWrOps: { WR: 0, ws: 0, wf: 0 },
    retries: { rq: 0, rs: 0, wq: 0, ws: 0 },
    objs: { rr: 0, sr: 0, bq: 0, wsc: 0 },
    wbLock: { skip: 0, wait: 0 },
    fscache: {
      cookies: { n: 0, v: 0, vcol: 0, voom: 0 },
      acquire: { n: 0, ok: 0, oom: 0 },
      invals: { n: 0 },
      updates: { n: 0, rsz: 0, rsn: 0 },
      relinqs: { n: 0, rtr: 0, drop: 0 },
      noSpace: { nwr: 0, ncr: 0, cull: 0 },
      io: { rd: 0, wr: 0, mis: 0 },
    },
  };
}

export type NetfsStats = ReturnType<typeof newNetfsStats>;

const LINES: Array<[string, keyof Omit<NetfsStats, 'fscache'>]> = [
  ['Reads  ', 'reads'], ['Writes ', 'writes'], ['ZeroOps', 'zeroOps'], ['DownOps', 'downOps'], ['CaRdOps', 'caRdOps'],
  ['UpldOps', 'upldOps'], ['CaWrOps', 'caWrOps'], ['Retries', 'retries'], ['Objs   ', 'objs'], ['WbLock ', 'wbLock'],
];
const FSCACHE_LINES: Array<[string, keyof NetfsStats['fscache']]> = [
  ['Cookies', 'cookies'], ['Acquire', 'acquire'], ['Invals ', 'invals'], ['Updates', 'updates'],
  ['Relinqs', 'relinqs'], ['NoSpace', 'noSpace'], ['IO     ', 'io'],
];

/** The stats as /proc/fs/netfs/stats prints them. */
export function formatNetfsStats(s: NetfsStats): string {
  const line = (label: string, group: Record<string, number>): string =>
    `${label}: ${Object.entries(group).map(([k, v]) => `${k}=${v}`).join(' ')}`;
  return [
    ...LINES.map(([label, key]) => line(label, s[key])),
    'FS-Cache statistics',
    ...FSCACHE_LINES.map(([label, key]) => line(label, s.fscache[key])),
  ].join('\n') + '\n';
}
