/**
 * Awaits a promise that must reject with an EngineError and returns that error.
 */
import { expect } from 'vitest';
import { EngineError } from '../../src/errors/engine-error.js';

export async function failure(promise: Promise<unknown>): Promise<EngineError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EngineError);
  return error as EngineError;
}
