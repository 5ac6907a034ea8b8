/**
 * The shapes every bench case shares: what a case gets (the server, a scratch folder, the
 * sizes) and what it gives back (rows of the final JSON, and failures).
 */
import type { ApacheServer } from '../testing/apache.js';

/** The peers we compare against (the `peer` field of a row). */
export type PeerName = 'rclone' | 'curl' | 'cat';

/** One row of the final JSON: one (case, peer) pair. Times are the best of the runs. */
export interface BenchRow {
  name: string;
  /** Bytes moved by one run of each side. */
  bytes: number;
  /** Files moved by one run of each side. */
  files: number;
  /** Our best wall time in seconds, or null when every run of ours failed. */
  ours_s: number | null;
  peer: PeerName;
  peer_s: number | null;
  /** peer_s / ours_s (above 1: we are faster), or null when either side failed. */
  ratio: number | null;
  /** The engine's peak RSS (largest over our runs), in MB (10^6 bytes), or null. */
  peak_rss_mb: number | null;
  /** GETs the server saw during our run, where a case counts them (second_read_1g). */
  server_gets?: number | null;
}

export interface BenchContext {
  readonly quick: boolean;
  /** Runs per side; the best time is kept. */
  readonly repeats: number;
  readonly server: ApacheServer;
  /** A private folder on the same disk as the server's data folder; removed at the end. */
  readonly scratch: string;
  /** Folder of the compiled bench scripts (dist/app/bench). */
  readonly benchDir: string;
  /** Progress and diagnostics (stderr). */
  log(line: string): void;
  /** Extra diagnostic runs (--diagnose): not in the rows, printed to stderr. */
  readonly diagnose: boolean;
  /** Samples the load of other processes (call it between runs, while nothing of ours runs). */
  checkQuiet(label: string): Promise<void>;
}

export interface CaseResult {
  rows: BenchRow[];
  /** One line per failed run: `side: reason`. */
  failures: string[];
}

/** One benchmark; later issues add theirs to the list in cases/index.ts. */
export interface BenchCase {
  /** Fixed row name, the same under --quick (e.g. download_1g). */
  readonly name: string;
  /** Names of further rows the case gives (also accepted by --only). */
  readonly aliases?: readonly string[];
  run(ctx: BenchContext): Promise<CaseResult>;
}
