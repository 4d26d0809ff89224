/**
 * Cube's REST API: /load, /sql, /dry-run and /meta, each behind the authenticate stage.
 */
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { EngineError, isEngineError } from '../errors/engine-error.js';
import type { AnonymousRateLimiter } from '../operator/create-anonymous-rate-limiter.js';
import type { ApiScope, AuthResult } from '../auth/auth-result.js';
import type { AppDeps } from './app-deps.js';
import { requireScope } from '../operator/require-scope.js';
import { executeRequest, prepareRequest, type PipelineDeps, type QueryPolicies } from './query-pipeline.js';
import { buildMeta } from '../shape/build-meta.js';
import { normalizedQuery } from '../shape/shape-result.js';
import { readCacheDirectives } from '../cache/cache-directives.js';
import { summarizeOutcomes, type CacheScope } from '../cache/cache-scope.js';
import { responseKeyFor } from '../cache/response-memo.js';
import { noteQueries, noteResults } from '../audit/note-queries.js';
import { timed } from '../metrics/request-timing.js';
import { bindStatementScope, type StatementScope } from '../db/statement-scope.js';
import { createPlanCache } from '../cache/plan-cache.js';

export interface CubeRouterOptions {
  readonly policies?: QueryPolicies | undefined;
  /** Runs after authentication, e.g. the per-caller query rate limiter. */
  readonly afterAuth?: readonly RequestHandler[] | undefined;
  /** Members the caller may see in /meta (access policies); all public members when absent. */
  readonly visibleMembers?: ((auth: AuthResult) => Promise<ReadonlySet<string> | undefined>) | undefined;
  /** Counts requests that carry no credential or fail to authenticate, per client address. */
  readonly anonymousLimiter?: AnonymousRateLimiter | undefined;
}

type Handler = (req: Request, res: Response) => Promise<void>;

const auth = (res: Response): AuthResult => res.locals.auth as AuthResult;


/** Reads a request parameter from the query string (GET) or the JSON body (POST). */
function param(req: Request, name: string): unknown {
  if (req.method === 'GET') return (req.query as Record<string, unknown>)[name];
  const body = req.body as Record<string, unknown> | undefined;
  return body && typeof body === 'object' ? body[name] : undefined;
}

const CONTINUE_WAIT = Symbol('continue wait');
/** Prepared /load requests kept per app (plain frozen data, a few KB each). */
const PREPARED_REQUESTS_MAX = 2000;

/** The work's result, or CONTINUE_WAIT once `waitMs` passes (0: wait for it); the work carries on either way. */
async function withinWait<T>(work: Promise<T>, waitMs: number): Promise<T | typeof CONTINUE_WAIT> {
  if (waitMs <= 0) return work;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof CONTINUE_WAIT>((resolve) => {
    timer = setTimeout(() => resolve(CONTINUE_WAIT), waitMs);
  });
  try {
    const winner = await Promise.race([work, timeout]);
    // An abandoned statement's failure is for the retry to see; here it must not go unhandled.
    if (winner === CONTINUE_WAIT) work.catch(() => undefined);
    return winner;
  } finally {
    clearTimeout(timer);
  }
}

export function createCubeRouter(deps: AppDeps, options: CubeRouterOptions = {}): Router {
  const router = Router();
  const pipeline: PipelineDeps = { config: deps.config, model: deps.model, db: deps.db, policies: options.policies };

  const anonymous = options.anonymousLimiter;
  const authenticate: RequestHandler = (req, res, next) => {
    // Answers may hold one tenant's rows: no shared cache may keep them, errors included.
    res.set('Cache-Control', 'no-store');
    // headersDistinct keeps every copy of a repeated header, so a second Authorization cannot hide.
    timed(res, 'auth', () => deps.authenticate({ headers: req.headersDistinct, ip: req.ip ?? req.socket.remoteAddress ?? '', raw: req }))
      .then(async (result) => {
        if (result.via === 'dev' && anonymous !== undefined) await anonymous.count(req);
        res.locals.auth = result;
        next();
      })
      .catch(async (error: unknown) => {
        let answer = error;
        // A failed authentication counts too; past the limit the 429 replaces the auth error.
        if (anonymous !== undefined && isEngineError(error) && error.code.startsWith('ERR_AUTH_')) {
          try {
            await anonymous.count(req);
          } catch (limited) {
            answer = limited;
          }
        }
        next(answer);
      });
  };

  const route = (scope: ApiScope, handler: Handler): RequestHandler[] => [
    authenticate,
    ...(options.afterAuth ?? []),
    (req: Request, res: Response, next: NextFunction) => {
      try {
        requireScope(auth(res), scope);
      } catch (e) {
        next(e);
        return;
      }
      handler(req, res).catch(next);
    },
  ];

  const prepare = async (req: Request, res: Response, rawQuery: unknown = param(req, 'query'), memo = false) => {
    const compile = (q: unknown) => prepareRequest(q, pipeline, auth(res));
    // /load reuses the plan of a query of the same shape from an identical context (see plan-cache.ts for when it may not).
    const prepared = await timed(res, 'compile', () => (memo ? planCache.prepare(rawQuery, auth(res), compile) : compile(rawQuery)));
    noteQueries(res, prepared, deps.model);
    return prepared;
  };

  // Cube's long poll: past the wait, answer "Continue wait" while the statement runs into the cache.
  const continueWaitMs = deps.resultCache ? deps.config.cache?.continueWaitMs ?? 0 : 0;

  // Requests of one shape from identical contexts are prepared once (with the cache on, and no hook taking part).
  const { hooks } = deps.config;
  const planCache = createPlanCache<Awaited<ReturnType<typeof prepareRequest>>>({
    maxEntries: PREPARED_REQUESTS_MAX,
    model: deps.model,
    enabled: deps.resultCache !== undefined && !hooks.queryRewrite && !hooks.contextToGroups,
  });

  const load: Handler = async (req, res) => {
    const directives = readCacheDirectives(param(req, 'query'));
    const prepared = await prepare(req, res, directives.query, true);
    const multi = param(req, 'queryType') === 'multi';
    if (prepared.queryType !== 'regularQuery' && !multi) {
      throw new EngineError(
        'ERR_QUERY_INVALID',
        `'${prepared.queryType}' query type is not supported by the client. Please update the client.`,
      );
    }
    // A repeated request whose rows are all cached gets the response shaped the first time.
    const cache = directives.renew ? undefined : deps.resultCache;
    const memo = cache ? responseKeyFor(cache.db, prepared, multi) : undefined;
    const stored = memo ? cache?.responses.get(memo.key, Date.now()) : undefined;
    if (cache && stored !== undefined) {
      cache.db.countHits(prepared.queries.length);
      res.setHeader('x-tessera-cache', 'hit');
      noteResults(res, stored.rows, 'hit');
      res.type('json').send(stored.body);
      return;
    }
    const statement = res.locals.statementScope as StatementScope | undefined;
    const scope: CacheScope = { renew: directives.renew, outcomes: [], statement };
    const db = deps.resultCache ? deps.resultCache.db.scoped(scope) : bindStatementScope(pipeline.db, statement);
    const scoped = { ...pipeline, db };
    const running = timed(res, 'execute', () => executeRequest(prepared, scoped, auth(res)));
    const results = await withinWait(running, continueWaitMs);
    if (results === CONTINUE_WAIT) {
      res.json({ error: 'Continue wait' });
      return;
    }
    const outcome = summarizeOutcomes(scope.outcomes);
    if (outcome) res.setHeader('x-tessera-cache', outcome);
    const rows = results.reduce((n, r) => n + (Array.isArray(r.data) ? r.data.length : 0), 0);
    noteResults(res, rows, outcome);
    const body = JSON.stringify(multi ? { queryType: prepared.queryType, results, pivotQuery: prepared.pivotQuery, slowQuery: false } : results[0]);
    // Only a request seen before (its rows were a hit) is likely to come again; a one-off is not stored.
    const made = cache && outcome === 'hit' ? responseKeyFor(cache.db, prepared, multi) : undefined;
    if (cache && made) cache.responses.set(made.key, { body, rows }, made.expiresAtMs, Date.now());
    res.type('json').send(body);
  };

  const sql: Handler = async (req, res) => {
    const prepared = await prepare(req, res);
    const entries = prepared.queries.map((p) => ({
      sql: [p.compiled.sql, p.compiled.params],
      timeDimensionAlias: p.compiled.columns.find((c) => c.kind === 'timeDimension')?.alias,
      timeDimensionField: p.compiled.columns.find((c) => c.kind === 'timeDimension')?.member,
      order: Object.fromEntries(p.query.order.map(([id, dir]) => [id, dir])),
      cacheKeyQueries: [],
      preAggregations: [],
      dataSource: 'default',
      aliasNameToMember: Object.fromEntries(p.compiled.columns.map((c) => [c.alias, c.key])),
      external: false,
      memberNames: p.compiled.columns.map((c) => c.key),
    }));
    if (prepared.queryType === 'regularQuery') {
      res.json({ sql: entries[0] });
    } else {
      res.json(entries.map((e) => ({ sql: e, dataSource: 'default' })));
    }
  };

  const dryRun: Handler = async (req, res) => {
    const prepared = await prepare(req, res);
    const normalizedQueries = prepared.queries.map((p) => normalizedQuery(p.query));
    res.json({
      queryType: prepared.queryType,
      normalizedQueries,
      // As Cube: one object per query, holding that query's whole order.
      queryOrder: prepared.queries.map((p) => Object.fromEntries(p.query.order.map(([id, dir]) => [id, dir]))),
      transformedQueries: prepared.queries.map(() => null),
      pivotQuery: prepared.pivotQuery,
    });
  };

  // Without access policies every caller sees the same /meta, so it is built once.
  let publicMeta: ReturnType<typeof buildMeta> | undefined;
  const meta: Handler = async (_req, res) => {
    const visible = options.visibleMembers ? await options.visibleMembers(auth(res)) : undefined;
    res.json(visible ? buildMeta(deps.model, visible) : (publicMeta ??= buildMeta(deps.model)));
  };

  router.get('/load', ...route('query', load));
  router.post('/load', ...route('query', load));
  router.get('/sql', ...route('query', sql));
  router.post('/sql', ...route('query', sql));
  router.get('/dry-run', ...route('query', dryRun));
  router.post('/dry-run', ...route('query', dryRun));
  router.get('/meta', ...route('meta', meta));
  return router;
}
