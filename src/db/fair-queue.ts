/**
 * Fair use of the pool's slots: each key (a security context) may hold at
 * most `perKey` slots and queue at most `queueDepth` more; free slots go to
 * the waiting keys in turn, so one key's flood cannot push another key's
 * statement back by more than one statement's time.
 */
import { EngineError } from '../errors/engine-error.js';

export interface FairQueueOptions {
  /** Slots in total (the pool size). */
  readonly slots: number;
  /** Slots one key may hold at once. */
  readonly perKey: number;
  /** Waiters one key may have; past it `acquire` fails with 429. */
  readonly queueDepth: number;
  /** Longest wait for a slot; then `acquire` fails with 503 (the pool is saturated). */
  readonly waitTimeoutMs: number;
}

export interface FairQueueStats {
  readonly active: number;
  readonly waiting: number;
  readonly keys: number;
}

export interface FairQueue {
  /** Resolves with a release function once a slot is free for `key`; rejects on abort, timeout or a full queue. */
  acquire(key: string, signal?: AbortSignal): Promise<() => void>;
  stats(): FairQueueStats;
}

interface Waiter {
  readonly grant: () => void;
  readonly fail: (err: unknown) => void;
}

interface KeyState {
  active: number;
  readonly waiters: Waiter[];
}

/** Three quarters of the pool per security context: one caller alone keeps most of it, others always find a slot. */
export function defaultTenantConcurrency(poolMax: number): number {
  return Math.max(1, poolMax - Math.max(1, Math.floor(poolMax / 4)));
}

export function createFairQueue(opts: FairQueueOptions): FairQueue {
  const keys = new Map<string, KeyState>();
  // Keys with waiters, served in turn from `cursor`.
  const ring: string[] = [];
  let cursor = 0;
  let active = 0;
  let waiting = 0;

  const stateOf = (key: string): KeyState => {
    let s = keys.get(key);
    if (!s) {
      s = { active: 0, waiters: [] };
      keys.set(key, s);
    }
    return s;
  };
  const forget = (key: string, s: KeyState): void => {
    if (s.active === 0 && s.waiters.length === 0) keys.delete(key);
  };

  const releaser = (key: string, s: KeyState): (() => void) => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      active -= 1;
      s.active -= 1;
      forget(key, s);
      dispatch();
    };
  };

  const dispatch = (): void => {
    while (active < opts.slots && ring.length > 0) {
      let granted = false;
      for (let n = 0; n < ring.length; n += 1) {
        const i = (cursor + n) % ring.length;
        const key = ring[i]!;
        const s = keys.get(key)!;
        if (s.active >= opts.perKey) continue;
        const waiter = s.waiters.shift()!;
        waiting -= 1;
        if (s.waiters.length === 0) {
          ring.splice(i, 1);
          cursor = ring.length === 0 ? 0 : i % ring.length;
        } else {
          cursor = (i + 1) % ring.length;
        }
        waiter.grant();
        granted = true;
        break;
      }
      if (!granted) return;
    }
  };

  return {
    acquire(key, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      const s = stateOf(key);
      if (active < opts.slots && s.active < opts.perKey && s.waiters.length === 0) {
        active += 1;
        s.active += 1;
        return Promise.resolve(releaser(key, s));
      }
      if (s.waiters.length >= opts.queueDepth) {
        forget(key, s);
        return Promise.reject(
          new EngineError('ERR_RATE_LIMITED', 'Too many queries are running or waiting for this security context; retry shortly.', {
            headers: { 'Retry-After': '1' },
          }),
        );
      }
      return new Promise<() => void>((resolve, reject) => {
        const leave = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          const i = s.waiters.indexOf(waiter);
          if (i >= 0) {
            s.waiters.splice(i, 1);
            waiting -= 1;
            if (s.waiters.length === 0) {
              const r = ring.indexOf(key);
              if (r >= 0) {
                ring.splice(r, 1);
                if (cursor > r) cursor -= 1;
                if (cursor >= ring.length) cursor = 0;
              }
            }
          }
          forget(key, s);
        };
        const waiter: Waiter = {
          grant: () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
            active += 1;
            s.active += 1;
            resolve(releaser(key, s));
          },
          fail: (err) => {
            leave();
            reject(err);
          },
        };
        const onAbort = (): void => waiter.fail(signal?.reason);
        const timer = setTimeout(
          () =>
            waiter.fail(
              new EngineError('ERR_DB_UNAVAILABLE', 'The database is busy; retry shortly.', { headers: { 'Retry-After': '1' } }),
            ),
          opts.waitTimeoutMs,
        );
        signal?.addEventListener('abort', onAbort, { once: true });
        s.waiters.push(waiter);
        waiting += 1;
        if (!ring.includes(key)) ring.push(key);
      });
    },
    stats: () => ({ active, waiting, keys: keys.size }),
  };
}
