// The preload bridge. `electron` (contextBridge, ipcRenderer) is replaced by the test double
// (electron-double.ts) — the only module mocked here, because Electron's binary cannot run on
// these machines. The contract (app/api) and its schemas are the real ones.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { NetfsBridge } from '../app/api/bridge.js';
import { CONTRACT_VERSION, type EventUpdate } from '../app/api/contract.js';
import { electronDouble, resetElectronDouble } from './electron-double.js';

vi.mock('electron', async () => {
  const { electronDouble: double } = await import('./electron-double.js');
  return { ...double, default: double };
});

// Loading the preload exposes the bridge, as it does in the app.
await import('./preload.js');
const exposedAtLoad = [...electronDouble.contextBridge.exposed.entries()];
const { buildBridge } = await import('./preload.js');

const ipc = electronDouble.ipcRenderer;

function status(state: 'idle' | 'paused', seq: number): EventUpdate {
  return {
    stream: 'sync.status',
    seq,
    data: { account: null, sync: state === 'idle' ? { state, lastPassMs: null } : { state }, lastPass: null, counts: {}, rateDown: 0, rateUp: 0 },
  } as EventUpdate;
}

let bridge: NetfsBridge;

beforeEach(() => {
  resetElectronDouble();
  bridge = buildBridge(ipc as never);
});

describe('preload bridge', () => {
  it('exposes exactly one thing, `netfs`, with call, subscribe and version (no ipcRenderer), frozen', () => {
    expect(exposedAtLoad.map(([k]) => k)).toEqual(['netfs']);
    const api = exposedAtLoad[0]![1] as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual(['call', 'subscribe', 'version']);
    expect(api.version).toBe(CONTRACT_VERSION);
    expect(Object.isFrozen(api)).toBe(true);
    expect(Object.values(api).some((v) => v === ipc)).toBe(false);
  });

  it('a known command goes to netfs:call and its answer is checked against the contract', async () => {
    ipc.answer = async () => ({ ok: true, value: { done: true } });
    expect(await bridge.call('sync.pause', {})).toEqual({ ok: true, value: { done: true } });
    expect(ipc.invoked).toEqual([{ channel: 'netfs:call', args: ['sync.pause', {}] }]);
    // An answer that does not match the result schema never reaches the page as a success.
    ipc.answer = async () => ({ ok: true, value: { done: 'yes' } });
    expect(await bridge.call('sync.pause', {})).toMatchObject({ ok: false, error: { code: 'PROTOCOL' } });
    // A failed invoke (main process gone) is an answer, not a throw.
    ipc.answer = async () => {
      throw new Error('Error invoking remote method');
    };
    expect(await bridge.call('sync.now', {})).toMatchObject({ ok: false, error: { code: 'UNREACHABLE' } });
  });

  it('an unknown command name is refused in the preload: nothing is sent', async () => {
    for (const name of ['fs.readFile', '__proto__', 'constructor', '', 7]) {
      expect(await bridge.call(name as never, {} as never), String(name)).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    }
    expect(ipc.invoked).toEqual([]);
  });

  it('subscribe sends the union of streams, delivers checked updates to the right listeners, drops malformed ones', () => {
    const a: EventUpdate[] = [];
    const b: EventUpdate[] = [];
    const offA = bridge.subscribe(['sync.status'], (u) => a.push(u));
    const offB = bridge.subscribe(['sync.status', 'log'], (u) => b.push(u));
    expect(ipc.sentMessages.map((m) => m.args[0])).toEqual([['sync.status'], ['log', 'sync.status']]);
    ipc.emit('netfs:event', {}, status('idle', 1));
    ipc.emit('netfs:event', {}, { stream: 'log', seq: 1, data: { lines: [{ timeMs: 1, level: 'info', message: 'hi', path: null }] } });
    // Malformed: unknown stream, bad data, bad seq, not an object.
    ipc.emit('netfs:event', {}, { stream: 'secrets', seq: 1, data: {} });
    ipc.emit('netfs:event', {}, { stream: 'log', seq: 2, data: { lines: 'x' } });
    ipc.emit('netfs:event', {}, { ...status('idle', 1), seq: -1 });
    ipc.emit('netfs:event', {}, 'sync.status');
    expect(a.map((u) => u.stream)).toEqual(['sync.status']);
    expect(b.map((u) => u.stream)).toEqual(['sync.status', 'log']);
    offB();
    expect(ipc.sentMessages.at(-1)?.args[0]).toEqual(['sync.status']);
    offA();
    offA();
    expect(ipc.sentMessages.at(-1)?.args[0]).toEqual([]);
    expect(ipc.listenerCount('netfs:event')).toBe(0);
  });

  it('a new listener gets the latest update of its streams at once; a throwing listener does not stop the others', () => {
    bridge.subscribe(['sync.status'], () => {
      throw new Error('renderer bug');
    });
    ipc.emit('netfs:event', {}, status('idle', 1));
    ipc.emit('netfs:event', {}, status('paused', 2));
    const late: EventUpdate[] = [];
    bridge.subscribe(['sync.status'], (u) => late.push(u));
    expect(late.map((u) => u.seq)).toEqual([2]);
    ipc.emit('netfs:event', {}, status('idle', 3));
    expect(late.map((u) => u.seq)).toEqual([2, 3]);
  });

  it('subscribe refuses stream names outside the contract, sending nothing', () => {
    expect(() => bridge.subscribe(['sync.status', 'nope'] as never, () => undefined)).toThrow(TypeError);
    expect(() => bridge.subscribe('log' as never, () => undefined)).toThrow(TypeError);
    expect(ipc.sentMessages).toEqual([]);
  });
});
