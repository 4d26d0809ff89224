/**
 * Keeps the shared counter store (PostgreSQL or Redis) off the request path while callers are
 * far from their limit, and exact against the store near it.
 *
 * Per key, a process remembers for the whole window (a bounded LRU) the store's last answer
 * (the total and when the window ends) plus its own grants the store has not acknowledged yet.
 * A request is granted locally, with no round trip, when
 *  - the limit leaves room for local grants at all (points > headroom, headroom = max(20, 20 %)),
 *  - the store answered the last flush or write (a failure sends every request to the store,
 *    so the store being down fails closed as before, within one flush interval),
 *  - the known total plus unacknowledged grants stays at or below `points - headroom`, and
 *  - the unacknowledged grants are below the lease: `lease` (max(1, 2.5 % of the limit)) while
 *    the last answer is at most two flush intervals old, else (a key never answered in this
 *    window, or not seen for a while) ONE, until the store's answer for it is back.
 * Every other request goes to the store, as rate-limiter-flexible's `consume` with the key's
 * unsent grants folded in, so near or over the limit the decision is the store's and exact.
 * A timer (every `flushMs`, 250 ms) sends the pending grants of many keys in ONE statement per
 * `maxBatch` keys (a multi-row upsert, or one Redis pipeline) and takes the new totals back.
 *
 * Overshoot: the store never grants past the limit itself; only local grants it had not seen
 * can. A process holds at most `lease` of them per key (ONE for a key it holds no fresh answer
 * for), and it stops granting locally once an answer taken after the limit was reached comes
 * back. So with P processes a key gets at most P × lease more than its limit in a window (for
 * 600 per minute, lease 15), plus one per process each time a key's entry leaves the LRU
 * (`maxKeys` keys) or the app is rebuilt. Grants are never lost: they are sent on the next
 * flush, or retried after a failed one; late ones count in the next window (never fewer). Only
 * at shutdown, if the store does not answer within `closeTimeoutMs` (1 s), are the last ones
 * dropped.
 * The X-RateLimit-Remaining of a local grant is the process's best knowledge of the total.
 */
import { LRUCache } from 'lru-cache';
import { RateLimiterRes } from 'rate-limiter-flexible';
import type { CounterStore } from './create-limiter-factory.js';

interface KeyState {
  /** The store's total at its last answer in the current window (0 when none). */
  consumed: number;
  /** Whether the store answered for this key in the current window. */
  known: boolean;
  resetAtMs: number;
  answeredAtMs: number;
  /** Granted locally, not yet sent. */
  pending: number;
  /** Sent (in a flush or a write) and not answered yet. */
  inflight: number;
}

export interface BatchOptions {
  /** How often pending grants are sent; an answer stays fresh for two of these. */
  readonly flushMs?: number;
  readonly clock?: () => number;
  /** Keys remembered (LRU). */
  readonly maxKeys?: number;
  /** Keys per flush statement. */
  readonly maxBatch?: number;
  /** How long `close` waits for its last flush (a store that does not answer must not hold up shutdown). */
  readonly closeTimeoutMs?: number;
}

/** The `consume` surface the query limiter uses. */
export interface PointConsumer {
  consume(key: string): Promise<RateLimiterRes>;
}

export interface BatchedLimiter extends PointConsumer {
  /** Sends every pending grant now. */
  flush(): Promise<void>;
  /** Stops the timer and sends what is pending. */
  close(): Promise<void>;
}

/** A window's end this close to the known one is the same window (the store's clocks jitter). */
const SAME_WINDOW_MS = 1000;

export function batchLimiterWrites(store: CounterStore, opts: BatchOptions = {}): BatchedLimiter {
  const { limiter } = store;
  const flushMs = opts.flushMs ?? 250;
  const clock = opts.clock ?? Date.now;
  const maxBatch = opts.maxBatch ?? 1000;
  const freshMs = 2 * flushMs;
  const points = limiter.points;
  const headroom = Math.max(20, Math.ceil(points * 0.2));
  const ceiling = points - headroom;
  const lease = Math.max(1, Math.floor(points / 40));
  const windowMs = limiter.duration > 0 ? limiter.duration * 1000 : -1;
  const states = new LRUCache<string, KeyState>({ max: opts.maxKeys ?? 50_000 });
  /** Keys with pending grants; they stay here even if the LRU drops them, so no grant is lost. */
  const dirty = new Map<string, KeyState>();
  /** Keys in the flush under way. */
  const sending = new Map<string, KeyState>();
  /** Keys with pending grants beyond this go to the store (a flush can fall behind). */
  const maxDirty = maxBatch * 10;
  let healthy = true;
  let flushing: Promise<void> | undefined;
  let closed = false;

  function stateOf(key: string, now: number): KeyState {
    const state = states.get(key) ?? dirty.get(key) ?? sending.get(key) ?? { consumed: 0, known: false, resetAtMs: 0, answeredAtMs: 0, pending: 0, inflight: 0 };
    if (state.known && now >= state.resetAtMs) {
      // The window ended: the next answer starts the new one.
      state.known = false;
      state.consumed = 0;
    }
    states.set(key, state);
    return state;
  }

  function answer(state: KeyState, consumed: number, msBeforeNext: number, at: number): void {
    const resetAtMs = msBeforeNext < 0 ? Infinity : at + msBeforeNext;
    // Two answers of one window may arrive out of order; the total only grows within a window.
    if (state.known && resetAtMs <= state.resetAtMs + SAME_WINDOW_MS) state.consumed = Math.max(state.consumed, consumed);
    else {
      state.consumed = consumed;
      state.resetAtMs = resetAtMs;
    }
    state.known = true;
    state.answeredAtMs = Math.max(state.answeredAtMs, at);
  }

  function grantsLocally(state: KeyState, now: number): boolean {
    if (!healthy || closed || ceiling < 1) return false;
    const unanswered = state.pending + state.inflight;
    if (state.consumed + unanswered + 1 > ceiling) return false;
    if (state.pending === 0 && dirty.size >= maxDirty) return false;
    const fresh = state.known && now - state.answeredAtMs <= freshMs;
    return unanswered < (fresh ? lease : 1);
  }

  async function write(key: string, state: KeyState): Promise<RateLimiterRes> {
    const count = 1 + state.pending;
    state.pending = 0;
    state.inflight += count;
    dirty.delete(key);
    const sentAt = clock();
    try {
      const res = await limiter.consume(key, count);
      state.inflight -= count;
      healthy = true;
      answer(state, res.consumedPoints, res.msBeforeNext, sentAt);
      return res;
    } catch (e) {
      state.inflight -= count;
      if (e instanceof RateLimiterRes) {
        healthy = true;
        answer(state, e.consumedPoints, e.msBeforeNext, sentAt);
      } else {
        // Not written: the earlier grants are sent again later; this request fails closed.
        healthy = false;
        state.pending += count - 1;
        if (state.pending > 0) dirty.set(key, state);
      }
      throw e;
    }
  }

  async function sendBatch(): Promise<void> {
    const batch = new Map<string, number>();
    for (const [key, state] of dirty) {
      if (batch.size >= maxBatch) break;
      dirty.delete(key);
      if (state.pending === 0) continue;
      batch.set(key, state.pending);
      state.inflight += state.pending;
      state.pending = 0;
      sending.set(key, state);
    }
    if (batch.size === 0) return;
    const sentAt = clock();
    let answers = new Map<string, { consumed: number; msBeforeNext: number }>();
    try {
      answers = await store.addMany(batch);
    } catch {
      // Retried below with the next flush; meanwhile requests go to the store and fail closed.
    }
    let failed = false;
    for (const [key, count] of batch) {
      const state = sending.get(key)!;
      sending.delete(key);
      state.inflight -= count;
      const got = answers.get(key);
      if (got) answer(state, got.consumed, got.msBeforeNext, sentAt);
      else {
        failed = true;
        state.pending += count;
        dirty.set(key, state);
      }
    }
    healthy = !failed;
  }

  function flush(): Promise<void> {
    if (flushing) return flushing;
    // Cleared in a callback, which always runs after the assignment below: a flush with nothing to
    // send ends synchronously, and clearing it inline would leave the settled promise in place for good.
    const current: Promise<void> = (async () => {
      // Keys granted while this runs wait for the next flush, so one flush always ends.
      for (let left = Math.ceil(dirty.size / maxBatch); left > 0 && dirty.size > 0; left -= 1) {
        await sendBatch();
        if (!healthy) break;
      }
    })().finally(() => {
      if (flushing === current) flushing = undefined;
    });
    flushing = current;
    return current;
  }

  const timer = setInterval(() => void flush(), flushMs);
  timer.unref();

  return {
    flush,
    async close() {
      closed = true;
      clearInterval(timer);
      let timeout: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<void>((resolve) => {
        timeout = setTimeout(resolve, opts.closeTimeoutMs ?? 1000);
        timeout.unref();
      });
      try {
        await Promise.race([(async () => {
          await flushing;
          await flush();
        })(), gaveUp]);
      } finally {
        clearTimeout(timeout);
      }
    },
    async consume(key: string): Promise<RateLimiterRes> {
      const now = clock();
      const state = stateOf(key, now);
      if (!grantsLocally(state, now)) return write(key, state);
      state.pending += 1;
      dirty.set(key, state);
      if (dirty.size >= maxBatch) void flush();
      const total = state.consumed + state.pending + state.inflight;
      const msBeforeNext = !state.known ? windowMs : Number.isFinite(state.resetAtMs) ? state.resetAtMs - now : -1;
      return new RateLimiterRes(Math.max(points - total, 0), msBeforeNext, total, false);
    },
  };
}
