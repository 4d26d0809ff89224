/**
 * Loads a Cube model folder into the readonly Model, as Cube does: JavaScript (scripts or
 * ES modules), YAML (with Jinja) side by side. Every file is read; a file of a kind Tessera
 * does not read is named in an error rather than skipped. Any problem is a ModelError
 * naming the file (and line where known) and the member, and stops start-up.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ModelError } from '../errors/engine-error.js';
import type { CompileContext } from './load/compile-context.js';
import { compileModelSources, compileModelSourcesAsync, type ModelSource } from './load/compile-sources.js';
import type { Model } from './model.js';

export type { ModelSource } from './load/compile-sources.js';

export interface LoadOptions {
  /** COMPILE_CONTEXT of this compile; the empty context when absent. */
  readonly compileContext?: CompileContext;
  /** Collect every error here instead of stopping at the first (`tessera validate`). */
  readonly errors?: ModelError[];
}

/** Files of a model folder: model files, Jinja macros, Python helpers. Other files are not model files. */
const MODEL_FILE = /\.(js|mjs|cjs|ya?ml|jinja|py)$/;

/** Builds the Model from model file texts, in the given order (no `asyncModule`: use `loadModel`). */
export function loadModelFromSources(files: readonly ModelSource[], options: LoadOptions = {}): Model {
  return compileModelSources(files, options);
}

/** Every model file under `dir`, recursively, sorted by path. */
export async function listModelFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string) => {
    const entries = await readdir(current, { withFileTypes: true });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules' || entry.name === '__pycache__') continue;
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && MODEL_FILE.test(entry.name)) out.push(full);
    }
  };
  await walk(dir);
  return out;
}

/** Reads the model folder's files, named relative to the working directory. */
export async function readModelSources(dir: string): Promise<ModelSource[]> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new ModelError(`model directory ${dir} does not exist`);
  const files = await listModelFiles(dir);
  return Promise.all(
    files.map(async (full) => {
      const relative = path.relative(process.cwd(), full);
      return {
        fileName: relative.startsWith('..') ? full : relative,
        path: path.relative(dir, full),
        content: await readFile(full, 'utf8'),
      };
    }),
  );
}

/** Loads every model file under `dir` into a readonly Model. */
export async function loadModel(dir: string, options: LoadOptions = {}): Promise<Model> {
  return compileModelSourcesAsync(await readModelSources(dir), options);
}
