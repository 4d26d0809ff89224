/**
 * Spares the shared counter store one write per request while a caller is far from its limit.
 *
 * Near the limit every request goes to the store, so the limit is exact there and holds across
 * processes. Far from it, a process counts requests locally for a short while and adds them to
 * the store in one write; the store stays the one source of truth.
 */
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

interface KeyState {
  /** Remaining points the store reported at the last write. */
  remaining: number;
  /** Requests granted locally since then, not yet written. */
  pending: number;
  syncedAtMs: number;
  resetAtMs: number;
}

export interface BatchOptions {
  /** How long a store answer may be reused for local grants. */
  readonly flushMs?: number;
  readonly clock?: () => number;
}

/** The `consume` surface the query limiter uses. */
export interface PointConsumer {
  consume(key: string): Promise<RateLimiterRes>;
}

export function batchLimiterWrites(store: RateLimiterAbstract, opts: BatchOptions = {}): PointConsumer & { flush(): Promise<void> } {
  const flushMs = opts.flushMs ?? 250;
  const clock = opts.clock ?? Date.now;
  const states = new Map<string, KeyState>();
  // Local grants stop well before the limit, so concurrent processes cannot overshoot it by much.
  const headroom = Math.max(20, Math.ceil(store.points * 0.2));

  async function write(key: string, points: number): Promise<RateLimiterRes> {
    const state = states.get(key);
    try {
      const res = await store.consume(key, points);
      states.set(key, { remaining: res.remainingPoints, pending: 0, syncedAtMs: clock(), resetAtMs: clock() + res.msBeforeNext });
      return res;
    } catch (e) {
      if (e instanceof RateLimiterRes) states.delete(key);
      else if (state) state.pending += points - 1;
      throw e;
    }
  }

  async function flush(): Promise<void> {
    const now = clock();
    const writes: Promise<unknown>[] = [];
    for (const [key, state] of states) {
      if (state.pending > 0) {
        const points = state.pending;
        state.pending = 0;
        writes.push(store.penalty(key, points).catch(() => undefined));
      }
      if (now - state.syncedAtMs > flushMs * 4) states.delete(key);
    }
    await Promise.all(writes);
  }

  const timer = setInterval(() => void flush(), flushMs);
  timer.unref();

  return {
    flush,
    async consume(key: string): Promise<RateLimiterRes> {
      const state = states.get(key);
      const now = clock();
      if (state && now - state.syncedAtMs < flushMs && now < state.resetAtMs && state.remaining - state.pending - 1 >= headroom) {
        state.pending += 1;
        return new RateLimiterRes(state.remaining - state.pending, state.resetAtMs - now, store.points - state.remaining + state.pending, false);
      }
      const points = 1 + (state?.pending ?? 0);
      if (state) state.pending = 0;
      return write(key, points);
    },
  };
}
