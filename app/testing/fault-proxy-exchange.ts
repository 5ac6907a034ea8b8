// One request through the fault proxy, from arrival to the end of its answer:
//
//   arrival ──> record ──> rule book ──> status:        made-up answer, not forwarded
//                                   ├──> hang:          read it, answer nothing, hold the socket
//                                   ├──> reset/close before-headers (not forwarded): cut now
//                                   ├──> delay:         wait, then forward
//                                   └──> anything else: forward (fault-proxy-forward.ts)
import { setTimeout as sleep } from 'node:timers/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { statusAnswer } from './fault-proxy-answers.js';
import { cutClient, forward, sendAnswer } from './fault-proxy-forward.js';
import type { Exchange, ProxyContext } from './fault-proxy-forward.js';
import type { RuleBook } from './fault-proxy-rules.js';
import { headerPairs, lowerCaseHeaders } from './fault-proxy-headers.js';
import type { FaultAction } from './fault-proxy-types.js';

const PASS: FaultAction = { kind: 'pass' };

export async function runExchange(ctx: ProxyContext, rules: RuleBook, connection: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const record = ctx.log.open({
    connection,
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    headers: lowerCaseHeaders(headerPairs(req.rawHeaders)),
  });
  const lifetime = new AbortController();
  res.once('close', () => {
    lifetime.abort();
    // Whatever has not ended by now ended because the connection went.
    ctx.log.finish(record, res.writableFinished ? 'complete' : 'client-gone');
  });

  let action = PASS;
  try {
    const decision = rules.decide(record);
    if (decision !== null) {
      action = decision.action;
      ctx.log.update(record, { rule: decision.rule, action: action.kind });
    }
  } catch (err) {
    // A `when` predicate or an action factory threw: say so to the client and in the record.
    ctx.log.update(record, { error: `rule failed: ${err instanceof Error ? err.message : String(err)}` });
    sendAnswer({ ctx, req, res, record, action, signal: lifetime.signal }, statusAnswer({ kind: 'status', status: 500, body: `fault proxy rule failed: ${String(err)}\n` }));
    return;
  }
  const ex: Exchange = { ctx, req, res, record, action, signal: lifetime.signal };

  switch (action.kind) {
    case 'status':
      sendAnswer(ex, statusAnswer(action));
      return;
    case 'hang':
      ctx.log.finish(record, 'hung');
      req.resume();
      return;
    case 'reset':
    case 'close':
      if (action.at === 'before-headers' && action.forward !== true) {
        cutClient(ex, action.kind);
        return;
      }
      break;
    case 'delay':
      try {
        await sleep(action.ms, undefined, { signal: lifetime.signal });
      } catch {
        ctx.log.finish(record, 'client-gone');
        return;
      }
      break;
    default:
      break;
  }
  await forward(ex);
}
