/**
 * One audit record per data request (load, sql, dry-run, meta) and per operator
 * write. The middleware creates it on `res.locals.audit`; the pipeline enriches
 * it (cubes, members, policies, row filters, cache); it is written when the response ends.
 */
import type { Response } from 'express';

export interface AuditRecord {
  readonly time: string;
  readonly requestId: string;
  readonly route: string;
  readonly method: string;
  readonly clientIp: string;
  subject?: string | undefined;
  authMethod?: string | undefined;
  /** Cubes whose rows were read (join tree, after views are resolved). */
  cubes?: string[] | undefined;
  /** Members the caller's query named. */
  members?: string[] | undefined;
  /** Access policies applied, by name (`Cube:group`). */
  policies?: string[] | undefined;
  /** Cubes whose row filters (model security filters and access-policy rows) applied. */
  rowFilters?: string[] | undefined;
  /** The database role the statements ran as, when row-level security is on. */
  dbRole?: string | undefined;
  /** Claim names; values are `[redacted]` unless configured. */
  claims?: Record<string, unknown> | undefined;
  decision?: 'allow' | 'deny' | undefined;
  code?: string | undefined;
  status?: number | undefined;
  rows?: number | undefined;
  cache?: 'hit' | 'miss' | undefined;
  durationMs?: number | undefined;
}

/** The request's audit record, if the route is audited; the pipeline writes into it. */
export function auditRecordOf(res: Response): AuditRecord | undefined {
  return res.locals.audit as AuditRecord | undefined;
}
