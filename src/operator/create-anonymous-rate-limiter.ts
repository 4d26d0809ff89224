/**
 * A limit per client address on /cubejs-api requests that carry no credential or fail to
 * authenticate, so dev-mode callers and token guessers cannot flood the server.
 */
import type { RequestHandler } from 'express';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { securityOf } from '../config/config.js';
import { EngineError } from '../errors/engine-error.js';
import type { AppDeps } from '../server/app-deps.js';
import { batchLimiterWrites } from './batch-limiter-writes.js';
import { metadataUnavailable } from './create-api-key-authenticator.js';
import { createClientIpResolver, limiterBucket } from './create-client-ip-resolver.js';
import { createCounterStoreFactory } from './create-limiter-factory.js';
import { metaSchemaName } from './migrate-operator-schema.js';

export interface AnonymousRateLimiter {
  /** Counts one anonymous request of this client; rejects with a 429 past the limit. */
  count(req: Parameters<RequestHandler>[0]): Promise<void>;
  /** Stops its flush timer and writes what is pending. */
  close(): Promise<void>;
}

export function createAnonymousRateLimiter(deps: Pick<AppDeps, 'config' | 'db'>): AnonymousRateLimiter {
  const { operator } = deps.config;
  const { anonymousRateLimit, anonymousRateWindowSec } = securityOf(deps.config);
  const clientIp = createClientIpResolver(operator.trustedProxies);
  const limiter = batchLimiterWrites(
    createCounterStoreFactory({ knex: deps.db.knex, schema: metaSchemaName(operator.metaSchema), redisUrl: operator.redisUrl })({
      name: 'anonymous',
      points: anonymousRateLimit,
      durationSec: anonymousRateWindowSec,
    }),
    { flushMs: operator.rateLimitFlushMs },
  );
  return {
    close: () => limiter.close(),
    async count(req) {
      try {
        await limiter.consume(`ip:${limiterBucket(clientIp(req))}`);
      } catch (e) {
        if (!(e instanceof RateLimiterRes)) throw metadataUnavailable(e);
        const retryAfter = String(Math.max(1, Math.ceil(e.msBeforeNext / 1000)));
        throw new EngineError('ERR_RATE_LIMITED', `Too many requests without valid credentials; retry after ${retryAfter} seconds.`, {
          headers: { 'Retry-After': retryAfter },
        });
      }
    },
  };
}
