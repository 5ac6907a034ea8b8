/**
 * Where the CLI writes: results to stdout, messages and progress to stderr, with the process's
 * streams in real use and buffers in tests. Secrets never pass through here: callers print
 * paths, counts and error messages, which never contain the password.
 */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Raw bytes to stdout (`read`); resolves when they are flushed to the OS. */
  outBytes(bytes: Uint8Array): Promise<void>;
  env: Readonly<Record<string, string | undefined>>;
  /** stderr is a terminal: progress lines are shown. */
  errIsTty: boolean;
}

export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    outBytes: (bytes) =>
      new Promise<void>((resolve, reject) => {
        process.stdout.write(bytes, (e) => (e ? reject(e) : resolve()));
      }),
    env: process.env,
    errIsTty: process.stderr.isTTY === true,
  };
}

/** JSON for `--json`: one document, newline-terminated. */
export function printJson(io: CliIo, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}
