import type { Model } from './model.js';

/** Loads every `*.js` model file in `dir` into a readonly Model. Placeholder. */
export async function loadModel(_dir: string): Promise<Model> {
  return { cubes: new Map() };
}
