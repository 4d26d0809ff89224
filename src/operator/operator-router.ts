import { Router } from 'express';
import type { AppDeps } from '../server/app-deps.js';

/** Admin auth, sessions and API keys under /api (issue 4). Placeholder. */
export function createOperatorRouter(_deps: AppDeps): Router {
  return Router();
}
