/**
 * The WebSocket transport to the headless host (`netfs-sync serve`), with reconnect:
 *
 *   connect ──> socket(url, ['netfs.v1', 'netfs.token.<T>']) ──hello──> open (epoch n): subscribe, flush queued calls
 *      ^                                                        |
 *      |            backoff 0.25 s, 0.5 s, 1 s … 5 s            | close / error
 *      +──────────────────────── closed <───────────────────────+  pending calls rejected
 *
 *   call:    {type:'call', id, command, args}  ──>  {type:'result', id, result}
 *   events:  {type:'subscribe', streams}        ──>  {type:'event', stream, seq, data} …
 *
 * Events are whole snapshots numbered per stream; after a reconnect the host sends each
 * stream's current snapshot, so nothing is replayed: the new epoch tells the EventHub to take
 * the numbering afresh. A close code of 1008 or 4000–4999 means the host refused us (token,
 * version): no retry.
 */
import { CONTRACT_VERSION, type CommandName, type EventName } from '../../../app/api/contract.js';
import type { ConnectionStatus, Transport } from './transport.js';

/** The part of the browser's WebSocket this transport uses (so a test can pass `ws`'s). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type SocketFactory = (url: string, protocols: string[]) => SocketLike;

export interface WsTransportOptions {
  url: string;
  token: string;
  factory: SocketFactory;
  /** Wait before reconnect attempt n (1-based). */
  backoffMs?: (attempt: number) => number;
  /** How long a call waits for its answer. */
  callTimeoutMs?: number;
  /** How long a call made while disconnected waits for the connection. */
  connectWaitMs?: number;
}

const OPEN = 1;
/** Offered besides the token; the host picks it, so its answer does not echo the token. */
export const WS_PROTOCOL = 'netfs.v1';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface Queued {
  message: { command: CommandName; args: unknown };
  pending: Omit<Pending, 'timer'>;
  timer: ReturnType<typeof setTimeout>;
}

export function defaultBackoff(attempt: number): number {
  return Math.min(5000, 250 * 2 ** Math.max(0, attempt - 1));
}

export class WsTransport implements Transport {
  private socket: SocketLike | null = null;
  private current: ConnectionStatus = { state: 'connecting', attempt: 1 };
  private epoch = 0;
  private attempt = 0;
  private nextId = 1;
  private closedByUs = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly pending = new Map<number, Pending>();
  private readonly queue: Queued[] = [];
  private readonly eventListeners = new Set<{ streams: ReadonlySet<EventName>; fn: (update: unknown, epoch: number) => void }>();
  private readonly statusListeners = new Set<(s: ConnectionStatus) => void>();
  private readonly backoff: (attempt: number) => number;
  private readonly callTimeoutMs: number;
  private readonly connectWaitMs: number;

  constructor(private readonly options: WsTransportOptions) {
    this.backoff = options.backoffMs ?? defaultBackoff;
    this.callTimeoutMs = options.callTimeoutMs ?? 120_000;
    this.connectWaitMs = options.connectWaitMs ?? 10_000;
    this.connect();
  }

  status(): ConnectionStatus {
    return this.current;
  }

  onStatus(listener: (s: ConnectionStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  call(command: CommandName, args: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.current.state === 'open') {
        this.send(command, args, { resolve, reject });
        return;
      }
      if (this.current.state === 'refused' || this.closedByUs) {
        reject(new Error(this.current.state === 'refused' ? this.current.reason : 'the connection is closed'));
        return;
      }
      const queued: Queued = {
        message: { command, args },
        pending: { resolve, reject },
        timer: setTimeout(() => {
          const i = this.queue.indexOf(queued);
          if (i >= 0) this.queue.splice(i, 1);
          reject(new Error(`the app host did not answer within ${Math.round(this.connectWaitMs / 1000)} s (not connected)`));
        }, this.connectWaitMs),
      };
      this.queue.push(queued);
    });
  }

  subscribe(streams: readonly EventName[], listener: (update: unknown, epoch: number) => void): () => void {
    const entry = { streams: new Set(streams), fn: listener };
    this.eventListeners.add(entry);
    if (this.current.state === 'open') this.sendSubscribe();
    return () => {
      this.eventListeners.delete(entry);
    };
  }

  close(): void {
    this.closedByUs = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.socket?.close(1000, 'closed by the page');
    this.failAll(new Error('the connection is closed'));
  }

  private setStatus(s: ConnectionStatus): void {
    this.current = s;
    for (const l of this.statusListeners) l(s);
  }

  private connect(): void {
    this.attempt++;
    this.setStatus({ state: 'connecting', attempt: this.attempt });
    let socket: SocketLike;
    try {
      socket = this.options.factory(this.options.url, [WS_PROTOCOL, `netfs.token.${this.options.token}`]);
    } catch (e) {
      this.scheduleReconnect(`cannot open the connection: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.socket = socket;
    socket.onmessage = (ev) => this.onMessage(ev.data);
    socket.onclose = (ev) => this.onClose(socket, ev.code, ev.reason);
    socket.onerror = () => {
      // a close event always follows; it carries what there is to say
    };
  }

  private onOpen(): void {
    this.epoch++;
    this.attempt = 0;
    this.setStatus({ state: 'open', epoch: this.epoch });
    this.sendSubscribe();
    for (const q of this.queue.splice(0)) {
      clearTimeout(q.timer);
      this.send(q.message.command, q.message.args, q.pending);
    }
  }

  private onMessage(raw: unknown): void {
    if (typeof raw !== 'string') return;
    let msg: unknown;
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const m = msg as { type?: unknown; id?: unknown; result?: unknown; version?: unknown; error?: { message?: unknown } };
    if (m.type === 'hello') {
      if (m.version !== CONTRACT_VERSION) {
        this.refuse(`the app host speaks contract version ${String(m.version)}, this page ${CONTRACT_VERSION}: reload the page`);
        return;
      }
      if (this.current.state !== 'open') this.onOpen();
      return;
    }
    if (this.current.state !== 'open') this.onOpen();
    if (m.type === 'result' && typeof m.id === 'number') {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      p.resolve(m.result);
    } else if (m.type === 'event') {
      const stream = (msg as { stream?: unknown }).stream;
      for (const l of this.eventListeners) if (l.streams.has(stream as EventName)) l.fn(msg, this.epoch);
    }
  }

  private onClose(socket: SocketLike, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.failAll(new Error('the connection to the app host closed'));
    if (this.closedByUs || this.current.state === 'refused') return;
    if (code === 1008 || (code >= 4000 && code < 5000)) {
      this.refuse(reason !== '' ? reason : `the app host refused the connection (code ${code})`);
      return;
    }
    this.scheduleReconnect(reason !== '' ? reason : code === 1006 ? 'the app host cannot be reached' : `the connection closed (code ${code})`);
  }

  private scheduleReconnect(reason: string): void {
    const wait = this.backoff(this.attempt);
    this.setStatus({ state: 'closed', reason, retryAtMs: Date.now() + wait, attempt: this.attempt });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.closedByUs) this.connect();
    }, wait);
  }

  private refuse(reason: string): void {
    this.setStatus({ state: 'refused', reason });
    this.socket?.close(1000, 'refused');
    this.socket = null;
    this.failAll(new Error(reason));
  }

  private failAll(error: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(error);
    }
    for (const q of this.queue.splice(0)) {
      clearTimeout(q.timer);
      q.pending.reject(error);
    }
  }

  private send(command: CommandName, args: unknown, p: Omit<Pending, 'timer'>): void {
    const socket = this.socket;
    if (socket === null || socket.readyState !== OPEN) {
      p.reject(new Error('the connection to the app host is not open'));
      return;
    }
    const id = this.nextId++;
    const timer = setTimeout(() => {
      this.pending.delete(id);
      p.reject(new Error(`${command}: no answer within ${Math.round(this.callTimeoutMs / 1000)} s`));
    }, this.callTimeoutMs);
    this.pending.set(id, { ...p, timer });
    socket.send(JSON.stringify({ type: 'call', id, command, args: args ?? {} }));
  }

  private sendSubscribe(): void {
    const streams = new Set<EventName>();
    for (const l of this.eventListeners) for (const s of l.streams) streams.add(s);
    if (streams.size === 0 || this.socket === null || this.socket.readyState !== OPEN) return;
    this.socket.send(JSON.stringify({ type: 'subscribe', streams: [...streams] }));
  }
}
