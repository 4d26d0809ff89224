/** A preparation's result or its error (name, code, message), so a cached and a fresh one compare with toStrictEqual. */
import type { PreparedRequest } from '../../../src/server/query-pipeline.js';

export type Outcome = { ok: true; prepared: PreparedRequest } | { ok: false; error: { name: string; code: unknown; message: string } };

export async function outcome(work: () => Promise<PreparedRequest>): Promise<Outcome> {
  try {
    return { ok: true, prepared: await work() };
  } catch (e) {
    const err = e as Error & { code?: unknown };
    return { ok: false, error: { name: err.constructor.name, code: err.code, message: err.message } };
  }
}
