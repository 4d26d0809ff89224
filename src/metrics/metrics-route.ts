/**
 * `GET /metrics`: Prometheus text for loopback clients, and otherwise only for
 * API keys granted the `metrics` scope.
 */
import { isIP } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { EngineError } from '../errors/engine-error.js';
import type { AppDeps } from '../server/app-deps.js';
import type { Metrics } from './create-metrics.js';

const isLoopback = (ip: string): boolean => {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return ip === '::1' || (isIP(v4) === 4 && v4.startsWith('127.'));
};

export function metricsRoute(deps: Pick<AppDeps, 'authenticate'>, metrics: Metrics) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      // req.ip honours only the trusted proxies, so a forwarded outside client is not loopback.
      const ip = req.ip ?? req.socket.remoteAddress ?? '';
      if (!isLoopback(ip)) {
        const hasKey = req.headers['x-api-key'] !== undefined || /^\s*(Bearer\s+)?tsk_/i.test(String(req.headers.authorization ?? ''));
        if (!hasKey) throw new EngineError('ERR_AUTH_MISSING', 'Metrics are open to loopback clients and to API keys with the metrics scope.');
        const auth = await deps.authenticate({ headers: req.headers, ip, raw: req });
        if (auth.via !== 'apiKey' || !(auth.scopes as readonly string[]).includes('metrics')) {
          throw new EngineError('ERR_AUTH_SCOPE', 'This API key lacks the metrics scope.');
        }
      }
      res.setHeader('content-type', metrics.registry.contentType);
      res.setHeader('cache-control', 'no-store');
      res.send(await metrics.registry.metrics());
    } catch (err) {
      next(err);
    }
  };
}
