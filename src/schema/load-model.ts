/**
 * Loads Cube JavaScript model files into the readonly Model, as Cube does: scan every
 * file (acorn), wrap template values into functions, run each file in a `vm` context with
 * `cube` / `view` globals, then build and check the Model. Any problem is a ModelError
 * naming the file and the member, and stops start-up.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ModelError } from '../errors/engine-error.js';
import { buildModel } from './build-model.js';
import { builtinGlobalNames, evaluateModelFile, type RawDefinition } from './evaluate-model-file.js';
import type { Model } from './model.js';
import {
  CONTEXT_SYMBOLS,
  scanModelFile,
  transpileModelFile,
  type ModelCall,
} from './transpile-model-file.js';

/** One model file's text; `fileName` is how errors name it. */
export interface ModelSource {
  readonly fileName: string;
  readonly content: string;
}

const UNSUPPORTED_EXTENSIONS = ['.yml', '.yaml', '.jinja', '.py'];

/** Builds the Model from model file texts, in the given order. */
let builtins: ReadonlySet<string> | undefined;

export function loadModelFromSources(files: readonly ModelSource[]): Model {
  builtins ??= new Set([...builtinGlobalNames(), 'arguments']);
  const scanned = files.map((f) => scanModelFile(f.fileName, f.content));

  // Model symbols every file can see: cube and view names, and each definition's literal member names.
  const cubeNames = new Set<string>();
  const byName = new Map<string, ModelCall>();
  for (const file of scanned) {
    for (const call of file.calls) {
      if (call.name === undefined) continue;
      cubeNames.add(call.name);
      byName.set(call.name, call);
    }
  }
  const membersWithParents = (call: ModelCall, seen: Set<string>): string[] => {
    const parent = call.extendsName === undefined || seen.has(call.extendsName) ? undefined : byName.get(call.extendsName);
    if (call.name !== undefined) seen.add(call.name);
    return [...call.memberNames, ...(parent ? membersWithParents(parent, seen) : [])];
  };
  const knownFor = (call: ModelCall): ReadonlySet<string> =>
    new Set([...CONTEXT_SYMBOLS, ...cubeNames, ...membersWithParents(call, new Set())]);

  const definitions: RawDefinition[] = [];
  for (const file of scanned) {
    const { code, sites } = transpileModelFile(file, knownFor, builtins);
    definitions.push(...evaluateModelFile(file.fileName, code, sites));
  }
  return buildModel(definitions);
}

async function listModelFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string) => {
    const entries = await readdir(current, { withFileTypes: true });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && entry.name.endsWith('.js')) out.push(full);
      else if (entry.isFile() && UNSUPPORTED_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) {
        // A model the operator believes is loaded must not be skipped silently.
        throw new ModelError('only JavaScript model files (.js) are supported', { file: full });
      }
    }
  };
  await walk(dir);
  return out;
}

/** Loads every `*.js` model file under `dir` (recursively, sorted by path) into a readonly Model. */
export async function loadModel(dir: string): Promise<Model> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new ModelError(`model directory ${dir} does not exist`);
  const files = await listModelFiles(dir);
  const sources = await Promise.all(
    files.map(async (full) => {
      const relative = path.relative(process.cwd(), full);
      return { fileName: relative.startsWith('..') ? full : relative, content: await readFile(full, 'utf8') };
    }),
  );
  return loadModelFromSources(sources);
}
