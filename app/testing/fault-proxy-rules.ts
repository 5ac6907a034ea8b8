// The fault proxy's rule book: which rule, if any, fires on a request.
//
//   request ──> rule 1: method/path/when? ──> count it ──> nth / every / times allow? ──> fires
//                 │ no                                        │ no
//               rule 2 …  (every rule counts the requests it matches, whether or not an
//                          earlier rule fired on them; the first rule that fires applies)
//
// Deterministic: `every` with a seed draws from a seeded PRNG, so the same seed over the same
// request sequence hits the same requests.
import type { FaultAction, FaultMatch, FaultRule, FaultRuleHandle, PathMatch, ProxiedRequest } from './fault-proxy-types.js';

/** mulberry32: a small seeded PRNG giving numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RuleDecision {
  rule: string;
  action: FaultAction;
}

interface RuleState {
  id: number;
  name: string;
  rule: FaultRule;
  methods: readonly string[] | null;
  times: number | null;
  matched: number;
  fired: number;
  /** every: the firing position (0-based) inside the current block of N matches. */
  blockHit: number;
  random: (() => number) | null;
}

function positiveInteger(value: number | undefined, what: string): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
    throw new Error(`fault proxy rule: ${what} must be a positive integer, got ${value}`);
  }
}

function nonNegative(value: number | undefined, what: string): void {
  if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
    throw new Error(`fault proxy rule: ${what} must be a non-negative number, got ${value}`);
  }
}

/** Throws on an action the proxy could not carry out. */
export function validateAction(action: FaultAction): void {
  switch (action.kind) {
    case 'reset':
    case 'close':
      if (!['before-headers', 'mid-headers', 'mid-body'].includes(action.at)) throw new Error(`fault proxy rule: bad cut point ${String(action.at)}`);
      nonNegative(action.afterBodyBytes, 'afterBodyBytes');
      nonNegative(action.headBytes, 'headBytes');
      return;
    case 'delay':
      nonNegative(action.ms, 'ms');
      return;
    case 'truncate':
      nonNegative(action.afterBodyBytes, 'afterBodyBytes');
      return;
    case 'status':
      if (!Number.isInteger(action.status) || action.status < 200 || action.status > 599) {
        throw new Error(`fault proxy rule: status must be 200–599, got ${action.status}`);
      }
      return;
    case 'throttle':
      if (!(action.bytesPerSecond > 0)) throw new Error(`fault proxy rule: bytesPerSecond must be > 0, got ${action.bytesPerSecond}`);
      return;
    default:
      return;
  }
}

function pathMatches(pattern: PathMatch, path: string): boolean {
  if (typeof pattern === 'string') return path === pattern;
  if (pattern instanceof RegExp) {
    pattern.lastIndex = 0; // a /g or /y RegExp keeps state between tests
    return pattern.test(path);
  }
  return path.startsWith(pattern.prefix);
}

function baseMatches(state: RuleState, match: FaultMatch, request: ProxiedRequest): boolean {
  if (state.methods !== null && !state.methods.includes(request.method.toUpperCase())) return false;
  if (match.path !== undefined && !pathMatches(match.path, request.path)) return false;
  return match.when === undefined || match.when(request);
}

function spent(state: RuleState): boolean {
  if (state.times !== null && state.fired >= state.times) return true;
  // The n-th match came and went (fired, or an earlier rule fired on it): it cannot come again.
  const nth = state.rule.match?.nth;
  return nth !== undefined && state.matched >= nth;
}

/** Counts the request for this rule and says whether the rule wants to fire on it. */
function wantsToFire(state: RuleState, request: ProxiedRequest): boolean {
  const match = state.rule.match ?? {};
  if (!baseMatches(state, match, request)) return false;
  state.matched += 1;
  if (match.nth !== undefined && state.matched !== match.nth) return false;
  if (match.every !== undefined) {
    const position = (state.matched - 1) % match.every;
    if (position === 0) state.blockHit = state.random === null ? match.every - 1 : Math.floor(state.random() * match.every);
    if (position !== state.blockHit) return false;
  }
  return state.times === null || state.fired < state.times;
}

export class RuleBook {
  private readonly states: RuleState[] = [];
  private nextId = 1;

  add(rule: FaultRule): FaultRuleHandle {
    const match = rule.match ?? {};
    positiveInteger(match.nth, 'nth');
    positiveInteger(match.every, 'every');
    positiveInteger(rule.times ?? match.times, 'times');
    if (rule.times !== undefined && match.times !== undefined && rule.times !== match.times) {
      throw new Error('fault proxy rule: times given twice with different values');
    }
    if (match.seed !== undefined && !Number.isSafeInteger(match.seed)) throw new Error(`fault proxy rule: seed must be an integer, got ${match.seed}`);
    if (typeof rule.action !== 'function') validateAction(rule.action);
    const methods = match.method === undefined ? null : (typeof match.method === 'string' ? [match.method] : [...match.method]).map((m) => m.toUpperCase());
    const id = this.nextId++;
    const kind = typeof rule.action === 'function' ? 'dynamic' : rule.action.kind;
    const state: RuleState = {
      id,
      name: rule.name ?? `#${id} ${kind}`,
      rule,
      methods,
      times: rule.times ?? match.times ?? null,
      matched: 0,
      fired: 0,
      blockHit: -1,
      random: match.seed === undefined ? null : seededRandom(match.seed),
    };
    this.states.push(state);
    const remove = (): void => this.remove(id);
    return {
      id,
      name: state.name,
      get matched() {
        return state.matched;
      },
      get fired() {
        return state.fired;
      },
      get spent() {
        return spent(state);
      },
      remove,
    };
  }

  remove(id: number): void {
    const at = this.states.findIndex((s) => s.id === id);
    if (at >= 0) this.states.splice(at, 1);
  }

  clear(): void {
    this.states.length = 0;
  }

  get size(): number {
    return this.states.length;
  }

  /** Counts the request against every rule; returns what the first rule that fires does, or null. */
  decide(request: ProxiedRequest): RuleDecision | null {
    let decision: RuleDecision | null = null;
    for (const state of [...this.states]) {
      if (!wantsToFire(state, request) || decision !== null) continue;
      state.fired += 1;
      const { action } = state.rule;
      const chosen = typeof action === 'function' ? action(request, state.fired) : action;
      validateAction(chosen);
      decision = { rule: state.name, action: chosen };
    }
    return decision;
  }
}
