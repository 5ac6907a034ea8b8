/**
 * scanLocal in a process of its own, for the test that needs strace as this process's parent
 * (discover-local.test.ts: an unreadable folder made real by injecting EACCES into openat):
 *
 *   strace -f -P <root>/closed -e trace=openat -e inject=openat:error=EACCES \
 *     node --import ../testing/ts-loader.mjs discover-testing-child.ts <root>
 *       stdout: one line of ScanChildResult JSON
 */
import { scanLocal, type LocalProblem } from './discover-local.js';

export interface ScanChildResult {
  paths: string[];
  problems: LocalProblem[];
  blindPaths: string[];
  rootMissing: boolean;
}

const root = process.argv[2];
if (root === undefined) throw new Error('usage: discover-testing-child.ts <root>');
const scan = await scanLocal(root);
const result: ScanChildResult = {
  paths: [...scan.tree.keys()].sort(),
  problems: scan.problems,
  blindPaths: scan.blindPaths,
  rootMissing: scan.rootMissing,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
