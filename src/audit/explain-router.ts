/**
 * `POST /api/explain` `{query, securityContext}`: an admin-only explanation of
 * what that context may read and why (see explain-access.ts). It runs no query
 * and returns no data. Only an admin session cookie opens it; API keys and tokens do not.
 */
import express, { Router, type Request, type Response } from 'express';
import { EngineError } from '../errors/engine-error.js';
import { createOperatorStore } from '../operator/create-operator-store.js';
import { createSessionManager, SESSION_COOKIE } from '../operator/create-session-manager.js';
import { metaSchemaName } from '../operator/migrate-operator-schema.js';
import type { AppDeps } from '../server/app-deps.js';
import { explainAccess } from './explain-access.js';

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function createExplainRouter(deps: AppDeps): Router {
  const router = Router();
  const operator = deps.config.operator;
  if (operator.authMode === 'none') {
    // Without operator auth there is no admin, so the route does not exist (as /api/keys).
    router.post('/explain', () => {
      throw new EngineError('ERR_NOT_FOUND', 'Not found.');
    });
    return router;
  }
  const store = createOperatorStore(deps.db.knex, metaSchemaName(operator.metaSchema));
  const sessions = createSessionManager({ store, sessionDays: operator.sessionDays, now: Date.now });
  router.post('/explain', express.json({ limit: '64kb' }), async (req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store');
    const token = cookie(req.headers.cookie, SESSION_COOKIE);
    const session = token ? await sessions.verify(token).catch(() => undefined) : undefined;
    if (!session) throw new EngineError('ERR_AUTH_SESSION_REQUIRED', 'An admin session is required; log in with POST /api/auth/login.');
    res.locals.operatorSession = session;
    const body = req.body as { query?: unknown; securityContext?: unknown } | undefined;
    if (!body || typeof body !== 'object' || body.query === undefined) {
      throw new EngineError('ERR_BAD_REQUEST', 'The body must be {"query": …, "securityContext": {…}}.');
    }
    res.json(await explainAccess(deps, body.query, body.securityContext ?? {}));
  });
  return router;
}
