/**
 * Which compiled Model answers a request. A model folder that never reads COMPILE_CONTEXT
 * compiles once and serves everyone. One that does is compiled per context, as Cube does:
 * `contextToAppId({securityContext})` names the compiled model (default: a digest of the
 * whole security context, so two contexts share a model only when they are equal), and
 * compiled models are kept in a bounded LRU keyed by that app id.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { EngineError, ModelError } from '../errors/engine-error.js';
import { compileContextOf, readsCompileContext } from './load/compile-context.js';
import { compileModelSourcesAsync, type ModelSource } from './load/compile-sources.js';
import { readModelSources } from './load-model.js';
import type { Model, SecurityContext } from './model.js';

export type ContextToAppId = (ctx: { securityContext: SecurityContext }) => unknown;

export interface ModelProviderOptions {
  readonly contextToAppId?: ContextToAppId | undefined;
  /** How many per-context models stay compiled; the least recently used is dropped first. Default 100. */
  readonly maxCompiledModels?: number;
}

export interface ModelProvider {
  /** The model compiled with the empty COMPILE_CONTEXT: the only one when the folder does not read COMPILE_CONTEXT. */
  readonly base: Model;
  /** Whether models are compiled per context. */
  readonly perContext: boolean;
  /** The model for a request's (verified) security context. */
  modelFor(securityContext: SecurityContext): Promise<Model>;
}

const DEFAULT_MAX_MODELS = 100;
const APP_ID = /^[\w.:@-]{1,200}$/;

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Cube's default app id is one for everyone; with COMPILE_CONTEXT that would share one tenant's model with all. */
function defaultAppId(securityContext: SecurityContext): string {
  return `CUBEJS_APP_${createHash('sha256').update(stableJson(securityContext)).digest('hex').slice(0, 32)}`;
}

/** A provider over already-read model files (the watcher reloads by building a new one). */
export async function createModelProviderFromSources(sources: readonly ModelSource[], options: ModelProviderOptions = {}): Promise<ModelProvider> {
  const base = await compileModelSourcesAsync(sources);
  const perContext = sources.some((s) => readsCompileContext(s.content));
  if (!perContext) return Object.freeze({ base, perContext, modelFor: async () => base });

  const compiled = new LRUCache<string, Promise<Model>>({ max: options.maxCompiledModels ?? DEFAULT_MAX_MODELS });
  const appIdOf = async (securityContext: SecurityContext): Promise<string> => {
    if (!options.contextToAppId) return defaultAppId(securityContext);
    let id: unknown;
    try {
      id = await options.contextToAppId({ securityContext });
    } catch (cause) {
      throw new EngineError('ERR_INTERNAL', 'contextToAppId failed', { cause });
    }
    if (typeof id !== 'string' || !APP_ID.test(id)) {
      throw new EngineError('ERR_INTERNAL', 'contextToAppId must return a non-empty app id string', { cause: id });
    }
    return id;
  };
  const modelFor = async (securityContext: SecurityContext): Promise<Model> => {
    const appId = await appIdOf(securityContext);
    let model = compiled.get(appId);
    if (!model) {
      model = compileModelSourcesAsync(sources, { compileContext: compileContextOf(securityContext) });
      compiled.set(appId, model);
      // A failed compile is not cached: the next request for this app id tries again.
      model.catch(() => {
        if (compiled.get(appId) === model) compiled.delete(appId);
      });
    }
    try {
      return await model;
    } catch (cause) {
      // A context the model cannot be compiled for (e.g. a COMPILE_CONTEXT value unsafe in SQL) is the caller's problem.
      if (cause instanceof ModelError) throw new EngineError('ERR_AUTH_CONTEXT_INVALID', 'The security context cannot compile the data model', { cause });
      throw cause;
    }
  };
  return Object.freeze({ base, perContext, modelFor });
}

/** Reads the model folder and returns its provider. */
export async function createModelProvider(dir: string, options: ModelProviderOptions = {}): Promise<ModelProvider> {
  return createModelProviderFromSources(await readModelSources(dir), options);
}
