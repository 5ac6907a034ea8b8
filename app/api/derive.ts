/**
 * Everything a transport needs, derived from the contract (contract.ts) with mapped types, so
 * no side keeps a hand-written copy of the commands:
 *
 *   server side                                         client side
 *   Handlers = { [command]: (args) => Promise<result> }   Client = { [command]: (req) => Promise<Result> }
 *   dispatch(handlers, command, args)                   deriveClient(call)
 *     unknown command      -> INVALID_ARGUMENT            each answer checked against the
 *     args fail the schema -> INVALID_ARGUMENT            command's result schema (PROTOCOL if not)
 *     handler throws       -> its {code, message}
 *     result fails schema  -> PROTOCOL (never sent as is)
 *
 *   Wire messages (WebSocket; IPC carries the same `call` and `event` shapes):
 *     client -> host   { type: 'call', id, command, args } | { type: 'subscribe', streams }
 *     host -> client   { type: 'result', id, result } | { type: 'event', stream, seq, data }
 */
import { z } from 'zod';
import { errorShapeSchema } from './error-schema.js';
import { isNetfsError, toErrorShape } from './errors.js';
import {
  COMMANDS, EVENTS, type CommandArgs, type CommandName, type CommandRequest, type CommandResult, type EventName, type EventUpdate, type Result,
} from './contract.js';

export type Handlers = { [K in CommandName]: (args: CommandArgs<K>) => Promise<CommandResult<K>> };
export type Client = { [K in CommandName]: (request: CommandRequest<K>) => Promise<Result<CommandResult<K>>> };

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(COMMANDS, name);
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(EVENTS, name);
}

function fail(code: 'INVALID_ARGUMENT' | 'PROTOCOL', message: string): Result<never> {
  return { ok: false, error: { code, message } };
}

function issues(e: z.ZodError): string {
  return e.issues
    .slice(0, 3)
    .map((i) => `${i.path.length === 0 ? '(request)' : i.path.join('.')}: ${i.message}`)
    .join('; ');
}

/** Checks a call against the contract, runs its handler, checks the answer. Never throws. */
export async function dispatch(handlers: Handlers, command: unknown, args: unknown): Promise<Result<unknown>> {
  if (!isCommandName(command)) return fail('INVALID_ARGUMENT', `unknown command ${JSON.stringify(typeof command === 'string' ? command.slice(0, 64) : command)}`);
  const def = COMMANDS[command];
  const parsed = def.request.safeParse(args ?? {});
  if (!parsed.success) return fail('INVALID_ARGUMENT', `${command}: ${issues(parsed.error)}`);
  let value: unknown;
  try {
    const handler = handlers[command] as (a: unknown) => Promise<unknown>;
    value = await handler(parsed.data);
  } catch (e) {
    if (isNetfsError(e)) return { ok: false, error: toErrorShape(e) };
    return { ok: false, error: { code: 'IO', message: `${command}: ${e instanceof Error ? e.message : String(e)}` } };
  }
  const checked = def.result.safeParse(value);
  if (!checked.success) return fail('PROTOCOL', `${command}: the engine's answer does not match the contract: ${issues(checked.error)}`);
  return { ok: true, value: checked.data };
}

/** The schema of a whole answer to `command`. */
export function resultSchemaOf<K extends CommandName>(command: K): z.ZodType<Result<CommandResult<K>>> {
  return z.union([z.object({ ok: z.literal(true), value: COMMANDS[command].result }), z.object({ ok: z.literal(false), error: errorShapeSchema })]) as unknown as z.ZodType<
    Result<CommandResult<K>>
  >;
}

/** A client of every command over `call` (IPC invoke, a WebSocket round trip…); answers are checked. */
export function deriveClient(call: (command: CommandName, args: unknown) => Promise<unknown>): Client {
  const client: Partial<Record<CommandName, (req: unknown) => Promise<unknown>>> = {};
  for (const name of Object.keys(COMMANDS) as CommandName[]) {
    const schema = resultSchemaOf(name);
    client[name] = async (req: unknown) => {
      let raw: unknown;
      try {
        raw = await call(name, req);
      } catch (e) {
        return { ok: false, error: { code: 'UNREACHABLE', message: `${name}: ${e instanceof Error ? e.message : String(e)}` } };
      }
      const parsed = schema.safeParse(raw);
      return parsed.success ? parsed.data : fail('PROTOCOL', `${name}: the answer does not match the contract: ${issues(parsed.error)}`);
    };
  }
  return client as Client;
}

/** Checks an event update against its stream's schema (null: drop it). */
export function checkEvent(raw: unknown): EventUpdate | null {
  const head = z.object({ stream: z.string(), seq: z.number().int().nonnegative(), data: z.unknown() }).safeParse(raw);
  if (!head.success || !isEventName(head.data.stream)) return null;
  const data = EVENTS[head.data.stream].safeParse(head.data.data);
  return data.success ? ({ stream: head.data.stream, seq: head.data.seq, data: data.data } as EventUpdate) : null;
}

/** Messages a client sends over a socket. */
export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('call'), id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), command: z.string().max(64), args: z.unknown() }).strict(),
  z.object({ type: z.literal('subscribe'), streams: z.array(z.string().max(64)).max(16) }).strict(),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** Messages the host sends. */
export type HostMessage =
  | { type: 'hello'; version: number }
  | { type: 'result'; id: number; result: Result<unknown> }
  | ({ type: 'event' } & EventUpdate)
  | { type: 'error'; error: { code: string; message: string } };
