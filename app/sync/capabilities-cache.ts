/**
 * The server's capabilities, probed once and kept in the state folder (`capabilities.json`),
 * probed again after a day or when the remote URL changes: probing writes into the remote and,
 * on Apache, waits a second to see an ETag turn strong, which a pass should not pay each time.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { capabilitiesSchema, type Capabilities } from '../api/remote.js';
import type { RemoteBackend } from '../remote/backend.js';
import { z } from 'zod';

export const CAPABILITIES_FILE = 'capabilities.json';
const MAX_AGE_MS = 24 * 3600 * 1000;

const fileSchema = z.object({ remote: z.string(), probedAt: z.number(), capabilities: capabilitiesSchema });

export async function cachedCapabilities(stateDir: string, remote: string, backend: RemoteBackend, nowMs = Date.now()): Promise<Capabilities> {
  const file = join(stateDir, CAPABILITIES_FILE);
  try {
    const parsed = fileSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (parsed.success && parsed.data.remote === remote && nowMs - parsed.data.probedAt < MAX_AGE_MS && parsed.data.probedAt <= nowMs) {
      return parsed.data.capabilities;
    }
  } catch {
    // Missing or unreadable: probe.
  }
  const capabilities = await backend.capabilities({ refresh: true });
  await saveCapabilities(stateDir, remote, capabilities, nowMs);
  return capabilities;
}

/** Keeps what a probe found (init and "add account" probe once; the engine then reuses it). */
export async function saveCapabilities(stateDir: string, remote: string, capabilities: Capabilities, nowMs = Date.now()): Promise<void> {
  const file = join(stateDir, CAPABILITIES_FILE);
  const tmp = `${file}.tmp`;
  await writeFile(tmp, JSON.stringify({ remote, probedAt: nowMs, capabilities }), { mode: 0o600 });
  await rename(tmp, file);
}
