/**
 * Hot reload for dev mode: watches the model folder, recompiles when a model file changes,
 * and hands over the new Model only when it compiles. A broken edit reports its errors
 * and the last good model keeps serving.
 */
import { watch, type FSWatcher } from 'node:fs';
import { ModelError } from '../errors/engine-error.js';
import { loadModel } from './load-model.js';
import type { Model } from './model.js';

export interface ModelWatchOptions {
  /** Receives each model that compiled after a change (a new `version`). */
  readonly onReload: (model: Model) => void;
  /** Receives every error of an edit that does not compile; the previous model stays in use. */
  readonly onError: (errors: readonly Error[]) => void;
  /** The version serving now, so that a save without a change does not reload. */
  readonly currentVersion?: string | undefined;
  /** Quiet time after the last change before recompiling (editors write files in bursts). Default 150 ms. */
  readonly debounceMs?: number;
}

export interface ModelWatcher {
  close(): void;
}

const MODEL_FILE = /\.(js|mjs|cjs|ya?ml|jinja|py)$/;

export function watchModel(dir: string, options: ModelWatchOptions): ModelWatcher {
  let version = options.currentVersion;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let closed = false;

  const reload = async () => {
    const errors: ModelError[] = [];
    try {
      const model = await loadModel(dir, { errors });
      if (closed) return;
      if (errors.length > 0) {
        options.onError(errors);
        return;
      }
      if (model.version === version) return;
      version = model.version;
      options.onReload(model);
    } catch (cause) {
      if (!closed) options.onError([cause instanceof Error ? cause : new Error(String(cause))]);
    }
  };

  const watcher: FSWatcher = watch(dir, { recursive: true }, (_event, file) => {
    if (file !== null && !MODEL_FILE.test(String(file))) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      // One compile at a time, in order of changes.
      running = running.then(reload);
    }, options.debounceMs ?? 150);
  });
  watcher.on('error', (err) => options.onError([err]));
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}
