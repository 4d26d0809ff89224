/**
 * Starts an audit record for each audited request on `res.locals.audit` and
 * writes it when the response ends: who (subject, auth method, claim names),
 * what (route, cubes, members, row filters), the decision and its code, rows, time.
 */
import type { NextFunction, Request, Response } from 'express';
import type { AuthResult } from '../auth/auth-result.js';
import { errorCodeOf, routeOf, sentBody } from '../metrics/observe-requests.js';
import { requestIdOf } from '../server/request-id.js';
import type { AuditRecord } from './audit-record.js';
import type { AuditLog } from './create-audit-log.js';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AuditMiddlewareOptions {
  /** `data`: every request; `operator`: writes only (POST, PUT, PATCH, DELETE). */
  readonly kind: 'data' | 'operator';
  /** Claim names whose values are written; `*` for all. Others are `[redacted]`. */
  readonly claimValues: readonly string[];
}

export function auditMiddleware(audit: AuditLog, options: AuditMiddlewareOptions) {
  const reveal = new Set(options.claimValues);
  const claimsOf = (context: Readonly<Record<string, unknown>>): Record<string, unknown> =>
    Object.fromEntries(Object.keys(context).map((k) => [k, reveal.has('*') || reveal.has(k) ? context[k] : '[redacted]']));

  return (req: Request, res: Response, next: NextFunction): void => {
    // Data requests always get a record, so the pipeline's notes (cache hit or miss) reach the metrics too.
    if (options.kind === 'operator' && (!audit.enabled || READ_METHODS.has(req.method))) {
      next();
      return;
    }
    const started = performance.now();
    const record: AuditRecord = {
      time: new Date().toISOString(),
      requestId: requestIdOf(req),
      route: req.baseUrl + req.path,
      method: req.method,
      clientIp: req.ip ?? req.socket.remoteAddress ?? '',
    };
    res.locals.audit = record;
    let written = false;
    const finish = (): void => {
      if (written || !audit.enabled) return;
      written = true;
      try {
        const auth = res.locals.auth as AuthResult | undefined;
        if (routeOf(req) !== 'unmatched') (record as { route: string }).route = routeOf(req);
        if (auth) {
          record.subject ??= auth.subject ?? (typeof auth.rawContext.sub === 'string' ? auth.rawContext.sub : undefined);
          record.authMethod ??= auth.via;
          record.claims ??= claimsOf(auth.securityContext);
        } else if (res.locals.operatorSession) {
          // The operator router and /api/explain put the admin session here.
          record.subject ??= String((res.locals.operatorSession as { subject?: unknown }).subject ?? 'admin');
          record.authMethod ??= 'session';
        } else {
          record.authMethod ??= credentialKind(req);
        }
        record.status = res.statusCode;
        record.decision = res.statusCode < 400 ? 'allow' : 'deny';
        const code = errorCodeOf(res);
        if (code) record.code = code;
        else if (!res.writableFinished && res.statusCode < 400) record.code = 'ABORTED';
        record.rows ??= rowCount(sentBody(res));
        record.durationMs = Math.round((performance.now() - started) * 10) / 10;
        audit.write(record);
      } catch {
        // Auditing never fails a request; a broken record is counted as lost by the sink.
      }
    };
    res.on('finish', finish);
    res.on('close', finish);
    next();
  };
}

/** How an unauthenticated caller tried: the kind of credential sent, never its value. */
function credentialKind(req: Request): string {
  if (req.headers['x-api-key'] !== undefined) return 'apiKey';
  const auth = req.headers.authorization ?? req.headers['x-cube-authorization'];
  if (auth === undefined) return 'none';
  return /^\s*(Bearer\s+)?tsk_/i.test(String(auth)) ? 'apiKey' : 'token';
}

/** Rows in a /load answer (one result or a multi answer); undefined for other bodies. */
function rowCount(body: unknown): number | undefined {
  const b = body as { data?: unknown; results?: unknown } | undefined;
  if (!b || typeof b !== 'object') return undefined;
  if (Array.isArray(b.data)) return b.data.length;
  if (Array.isArray(b.results)) return b.results.reduce((n: number, r: { data?: unknown }) => n + (Array.isArray(r?.data) ? r.data.length : 0), 0);
  return undefined;
}
