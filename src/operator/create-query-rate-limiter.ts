/**
 * Per-key and per-subject query limits for /cubejs-api/v1, with
 * X-RateLimit-Limit/-Remaining/-Reset on every answer and Retry-After on 429.
 * Far from the limit a request costs no store round trip (see batch-limiter-writes.ts
 * for when a grant is local and how far past the limit that can go).
 */
import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { perCaller, type AuthResult } from '../auth/auth-result.js';
import { EngineError } from '../errors/engine-error.js';
import type { AppDeps } from '../server/app-deps.js';
import { metadataUnavailable } from './create-api-key-authenticator.js';
import { createClientIpResolver, limiterBucket, type ClientIpResolver } from './create-client-ip-resolver.js';
import { batchLimiterWrites } from './batch-limiter-writes.js';
import { createCounterStoreFactory } from './create-limiter-factory.js';
import { metaSchemaName } from './migrate-operator-schema.js';

export type QueryRateLimiterDeps = Pick<AppDeps, 'config' | 'db'> & Partial<Pick<AppDeps, 'logger'>>;

const digest = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 40);

/** A remembered token's subject digest is taken once (see perCaller). */
const subjectKey = perCaller((auth) => `sub:${digest(auth.subject ?? '')}`);

/** The bucket a request counts against: its API key, its token subject, else its client address. */
export function rateLimitKey(auth: AuthResult | undefined, req: Parameters<ClientIpResolver>[0], clientIp: ClientIpResolver): string {
  if (auth?.via === 'apiKey' && auth.subject !== undefined) return `key:${auth.subject}`;
  if (auth?.subject !== undefined && auth.subject !== '') return subjectKey(auth);
  return `ip:${limiterBucket(clientIp(req))}`;
}

function limitHeaders(limit: number, state: RateLimiterRes): Record<string, string> {
  const resetMs = Date.now() + Math.max(state.msBeforeNext, 0);
  return {
    'X-RateLimit-Limit': String(limit),
    'X-RateLimit-Remaining': String(Math.max(state.remainingPoints, 0)),
    'X-RateLimit-Reset': String(Math.ceil(resetMs / 1000)),
  };
}

/**
 * Express middleware for the query API. Mount it after authentication: it
 * reads the caller from `res.locals.auth` (an AuthResult) and falls back to
 * the client address when no caller is known.
 */
export function createQueryRateLimiter(deps: QueryRateLimiterDeps): RequestHandler & { close(): Promise<void> } {
  const { operator } = deps.config;
  const clientIp = createClientIpResolver(operator.trustedProxies);
  const limiter = batchLimiterWrites(
    createCounterStoreFactory({
      knex: deps.db.knex,
      schema: metaSchemaName(operator.metaSchema),
      redisUrl: operator.redisUrl,
    })({ name: 'query', points: operator.queryRateLimit, durationSec: operator.queryRateWindowSec }),
    { flushMs: operator.rateLimitFlushMs },
  );

  const handler: RequestHandler = async (req, res, next) => {
    const key = rateLimitKey(res.locals.auth as AuthResult | undefined, req, clientIp);
    try {
      res.set(limitHeaders(operator.queryRateLimit, await limiter.consume(key)));
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) return next(metadataUnavailable(e));
      const retryAfter = String(Math.max(1, Math.ceil(e.msBeforeNext / 1000)));
      const headers = { ...limitHeaders(operator.queryRateLimit, e), 'Retry-After': retryAfter };
      // Set here and on the error, so the headers survive however the error handler builds its answer.
      res.set(headers);
      return next(new EngineError('ERR_RATE_LIMITED', `Too many queries; retry after ${retryAfter} seconds.`, { headers }));
    }
    next();
  };
  return Object.assign(handler, { close: () => limiter.close() });
}
