/**
 * Prometheus metrics (prom-client) in a registry of the app's own, so two apps
 * in one process never share counters. Other parts report through the
 * counters here or through `addCollector` (e.g. the result cache's hit counts).
 */
import client from 'prom-client';
import type { Database } from '../db/database.js';

export interface Metrics {
  readonly registry: client.Registry;
  readonly httpRequests: client.Counter<'route' | 'status'>;
  readonly httpDuration: client.Histogram<'route'>;
  readonly dbDuration: client.Histogram<'outcome'>;
  readonly authFailures: client.Counter<'reason'>;
  readonly rateLimited: client.Counter<'route'>;
  readonly cacheRequests: client.Counter<'result'>;
  readonly auditDropped: client.Counter;
  /** Runs before each scrape; use it to copy counts kept elsewhere into a metric. */
  addCollector(fn: () => void | Promise<void>): void;
}

export function createMetrics(opts: { db?: Database | undefined } = {}): Metrics {
  const registry = new client.Registry();
  const collectors: (() => void | Promise<void>)[] = [];
  const httpRequests = new client.Counter({ name: 'tessera_http_requests_total', help: 'HTTP requests by route and status.', labelNames: ['route', 'status'] as const, registers: [registry] });
  const httpDuration = new client.Histogram({
    name: 'tessera_http_request_duration_seconds',
    help: 'HTTP request duration in seconds.',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const dbDuration = new client.Histogram({
    name: 'tessera_db_query_duration_seconds',
    help: 'Duration of data queries in the database, in seconds.',
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const authFailures = new client.Counter({ name: 'tessera_auth_failures_total', help: 'Refused authentications by reason (error code).', labelNames: ['reason'] as const, registers: [registry] });
  const rateLimited = new client.Counter({ name: 'tessera_rate_limit_rejections_total', help: 'Requests refused by a rate limiter.', labelNames: ['route'] as const, registers: [registry] });
  const cacheRequests = new client.Counter({ name: 'tessera_cache_requests_total', help: 'Result cache lookups by result (hit or miss).', labelNames: ['result'] as const, registers: [registry] });
  const auditDropped = new client.Counter({ name: 'tessera_audit_records_dropped_total', help: 'Audit records that could not be written.', registers: [registry] });
  const pool = (pick: (s: { total: number; idle: number; waiting: number }) => number) =>
    function (this: client.Gauge) {
      const stats = opts.db?.poolStats?.();
      if (stats) this.set(pick(stats));
    };
  new client.Gauge({ name: 'tessera_db_pool_in_use', help: 'Pool connections running a query.', registers: [registry], collect: pool((s) => s.total - s.idle) });
  new client.Gauge({ name: 'tessera_db_pool_idle', help: 'Idle pool connections.', registers: [registry], collect: pool((s) => s.idle) });
  new client.Gauge({ name: 'tessera_db_pool_waiting', help: 'Queries waiting for a pool connection.', registers: [registry], collect: pool((s) => s.waiting) });
  // Collectors run through a gauge's collect hook, which prom-client awaits before every scrape.
  new client.Gauge({
    name: 'tessera_metrics_collectors',
    help: 'Collectors run before each scrape.',
    registers: [registry],
    async collect() {
      for (const fn of collectors) await fn();
      this.set(collectors.length);
    },
  });
  return {
    registry,
    httpRequests,
    httpDuration,
    dbDuration,
    authFailures,
    rateLimited,
    cacheRequests,
    auditDropped,
    addCollector: (fn) => void collectors.push(fn),
  };
}
