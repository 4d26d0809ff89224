import { Router } from 'express';
import type { AppDeps } from './app-deps.js';

/** Cube's REST API: /load, /sql, /meta (and later /dry-run). Placeholder until the engine lands. */
export function createCubeRouter(_deps: AppDeps): Router {
  return Router();
}
