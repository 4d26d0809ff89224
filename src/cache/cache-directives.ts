/**
 * What a /load request asks of the result cache: `renewQuery: true` (older Cube clients) or
 * `cache: 'no-cache'` (Cube 1.x) skip stored results. `renewQuery` is lifted out here so the
 * query contract stays Cube 1.x's; any other value of it is left for validation to reject.
 */
import { decodeQueryParam } from '../query/wire-query.js';

export interface CacheDirectives {
  /** The decoded query, without a boolean `renewQuery`. */
  readonly query: unknown;
  readonly renew: boolean;
}

function liftOne(q: unknown): { query: unknown; renew: boolean } {
  if (typeof q !== 'object' || q === null || Array.isArray(q)) return { query: q, renew: false };
  const { renewQuery, ...rest } = q as Record<string, unknown>;
  const noCache = rest.cache === 'no-cache' || rest.cacheMode === 'no-cache';
  if (typeof renewQuery !== 'boolean') return { query: q, renew: noCache };
  return { query: rest, renew: renewQuery || noCache };
}

/** Decodes the raw `query` param (string or object) and reads its cache directives. */
export function readCacheDirectives(rawQuery: unknown): CacheDirectives {
  const decoded = decodeQueryParam(rawQuery);
  if (!Array.isArray(decoded)) return liftOne(decoded);
  const lifted = decoded.map(liftOne);
  return { query: lifted.map((l) => l.query), renew: lifted.some((l) => l.renew) };
}
