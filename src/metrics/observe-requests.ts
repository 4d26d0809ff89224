/**
 * Counts every HTTP request by route and status, times it, and keeps the JSON
 * body a response sends (the error code and row count are read from it when
 * the response ends, by metrics here and by the audit log).
 */
import type { NextFunction, Request, Response } from 'express';
import type { Metrics } from './create-metrics.js';

/** The route pattern (`/cubejs-api/v1/load`), never the raw path, so labels stay few. */
export function routeOf(req: Request): string {
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof pattern !== 'string') return 'unmatched';
  // Express restores baseUrl once an error leaves a router, so the mount path is taken from the URL.
  const segments = (req.originalUrl.split('?')[0] ?? '').split('/').filter((s) => s !== '');
  const own = pattern.split('/').filter((s) => s !== '').length;
  const base = segments.slice(0, Math.max(0, segments.length - own)).join('/');
  return `${base ? `/${base}` : ''}${pattern === '/' && base ? '' : pattern}`;
}

/** The JSON body the response sent, if any. */
export const sentBody = (res: Response): unknown => res.locals.sentBody;

/** `code` of a JSON error body. */
export function errorCodeOf(res: Response): string | undefined {
  const body = sentBody(res) as { code?: unknown } | undefined;
  return res.statusCode >= 400 && body && typeof body.code === 'string' ? body.code : undefined;
}

export function observeRequests(metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    const json = res.json;
    res.json = function (this: Response, body: unknown) {
      res.locals.sentBody = body;
      return json.call(this, body);
    } as Response['json'];
    res.on('finish', () => {
      const route = routeOf(req);
      metrics.httpRequests.inc({ route, status: String(res.statusCode) });
      metrics.httpDuration.observe({ route }, (performance.now() - started) / 1000);
      const code = errorCodeOf(res);
      if (res.statusCode === 429) metrics.rateLimited.inc({ route });
      else if (code?.startsWith('ERR_AUTH_') && (res.statusCode === 401 || res.statusCode === 403)) metrics.authFailures.inc({ reason: code });
      const cache = (res.locals.audit as { cache?: unknown } | undefined)?.cache;
      if (cache === 'hit' || cache === 'miss') metrics.cacheRequests.inc({ result: cache });
    });
    next();
  };
}
