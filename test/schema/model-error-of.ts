/** The ModelError that loading these model files throws (fails the test when none is thrown). */
import { ModelError } from '../../src/errors/engine-error.js';
import { loadModelFromSources, type ModelSource } from '../../src/schema/load-model.js';

export function modelErrorOf(files: readonly ModelSource[]): ModelError {
  try {
    loadModelFromSources(files);
  } catch (error) {
    if (error instanceof ModelError) return error;
    throw error;
  }
  throw new Error('expected a ModelError');
}
