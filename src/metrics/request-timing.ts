/**
 * Per-request stage timings for the `Server-Timing` header (auth, compile, db, shape).
 * Database time is added by the instrumented database through the request's statement
 * scope (`res.locals.statementScope.timing`, see db/statement-scope.ts), so it counts every
 * statement the request runs.
 */
import type { NextFunction, Request, Response } from 'express';

export type TimingStage = 'auth' | 'compile' | 'db' | 'execute';

export class RequestTiming {
  readonly ms = new Map<TimingStage, number>();

  add(stage: TimingStage, ms: number): void {
    this.ms.set(stage, (this.ms.get(stage) ?? 0) + ms);
  }

  /** `auth;dur=1.2, compile;dur=0.4, db;dur=3.1, shape;dur=0.2`; shape is execute minus db. */
  header(): string | undefined {
    const parts: string[] = [];
    const db = this.ms.get('db');
    for (const stage of ['auth', 'compile'] as const) {
      const v = this.ms.get(stage);
      if (v !== undefined) parts.push(`${stage};dur=${v.toFixed(1)}`);
    }
    if (db !== undefined) parts.push(`db;dur=${db.toFixed(1)}`);
    const execute = this.ms.get('execute');
    if (execute !== undefined) parts.push(`shape;dur=${Math.max(0, execute - (db ?? 0)).toFixed(1)}`);
    return parts.length > 0 ? parts.join(', ') : undefined;
  }
}

/** Starts a request's timing and writes `Server-Timing` just before the headers go out. */
export function requestTimingMiddleware(_req: Request, res: Response, next: NextFunction): void {
  const timing = new RequestTiming();
  res.locals.timing = timing;
  const writeHead = res.writeHead;
  res.writeHead = function (this: Response, ...args: unknown[]) {
    const value = timing.header();
    if (value && !this.headersSent) this.setHeader('Server-Timing', value);
    return (writeHead as (...a: unknown[]) => Response).apply(this, args);
  } as Response['writeHead'];
  next();
}

/** Runs `fn` and adds its duration to `stage` of the response's timing. */
export async function timed<T>(res: Response, stage: TimingStage, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    (res.locals.timing as RequestTiming | undefined)?.add(stage, performance.now() - started);
  }
}
