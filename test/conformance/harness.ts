/**
 * The conformance harness: security contexts, the hand-written scoping of every demo
 * table per context, and the comparison of Tessera's rows with rows from hand-written SQL.
 *
 * Expected SQL is written against the unqualified names `orders`, `order_items`, `users`,
 * `user_profiles`, `tenants` and `products`; `scopeCte` shadows each with the rows the
 * context may see (read off the model's `sql` by hand), so one statement serves every context.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { expect } from 'vitest';
import { signToken } from '../support/tokens.js';
import { DEMO_SCHEMA_PATH, REPO_ROOT } from '../support/test-app.js';

type IdSet = number | readonly number[];

/** What a context may see: a user filter and a tenant filter (absent = unrestricted). */
export interface Scope {
  readonly user?: IdSet;
  readonly tenant?: IdSet;
}

export interface Ctx {
  readonly payload: Record<string, unknown>;
  readonly scope: Scope;
}

/** The security contexts the cases run under; the payload is the JWT payload. */
export const CONTEXTS = {
  /** A token with no claims, run on apps with `missingClaims: matchAll`: no row filter applies (Cube's fail-open). */
  dev: { payload: {}, scope: {} },
  /** The seed scenario: a legacy `u` object. */
  user42: { payload: { u: { id: 42 } }, scope: { user: 42 } },
  /** A top-level `id` claim (user 7 is in tenant 2). */
  user7: { payload: { id: 7 }, scope: { user: 7 } },
  tenant1: { payload: { tenant_id: 1 }, scope: { tenant: 1 } },
  tenant2: { payload: { tenant_id: 2 }, scope: { tenant: 2 } },
  /** A numeric claim sent as a string is bound as a value (PostgreSQL compares it as an integer). */
  tenant2text: { payload: { tenant_id: '2' }, scope: { tenant: 2 } },
  tenant3: { payload: { tenant_id: 3 }, scope: { tenant: 3 } },
  tenant4: { payload: { tenant_id: 4 }, scope: { tenant: 4 } },
  tenant5: { payload: { tenant_id: 5 }, scope: { tenant: 5 } },
  /** Both claims, consistent (user 47 is in tenant 2), in `userToken`'s shape. */
  user47tenant2: { payload: { sub: 'user-47', u: { id: 47 }, tenant_id: 2 }, scope: { user: 47, tenant: 2 } },
  /** Both claims, inconsistent: user 42 is not in tenant 3, so nothing is visible but products. */
  user42tenant3: { payload: { u: { id: 42 }, tenant_id: 3 }, scope: { user: 42, tenant: 3 } },
  /** An array claim becomes IN (…). */
  tenants13: { payload: { tenant_id: [1, 3] }, scope: { tenant: [1, 3] } },
  users424344: { payload: { u: { id: [42, 43, 44] } }, scope: { user: [42, 43, 44] } },
  /** An empty array claim matches nothing. */
  noTenant: { payload: { tenant_id: [] }, scope: { tenant: [] } },
} as const satisfies Record<string, Ctx>;

export type ContextName = keyof typeof CONTEXTS;

export function tokenFor(name: ContextName): string {
  return signToken(CONTEXTS[name].payload);
}

function cond(column: string, ids: IdSet | undefined): string {
  if (ids === undefined) return 'true';
  if (typeof ids === 'number') return `${column} = ${Math.trunc(ids)}`;
  if (ids.length === 0) return 'false';
  return `${column} IN (${ids.map((i) => Math.trunc(i)).join(', ')})`;
}

/**
 * `WITH` clauses that shadow each demo table with what `scope` may see. Test constants only
 * (integers), so inlining them is safe.
 */
export function scopeCte(scope: Scope): string {
  const { user, tenant } = scope;
  return `WITH
  orders AS NOT MATERIALIZED (SELECT * FROM tessera_demo.orders WHERE ${cond('user_id', user)} AND ${cond('tenant_id', tenant)}),
  order_items AS NOT MATERIALIZED (SELECT i.* FROM tessera_demo.order_items i JOIN tessera_demo.orders po ON po.id = i.order_id WHERE ${cond('po.user_id', user)} AND ${cond('po.tenant_id', tenant)}),
  users AS NOT MATERIALIZED (SELECT * FROM tessera_demo.users WHERE ${cond('id', user)} AND ${cond('tenant_id', tenant)}),
  user_profiles AS NOT MATERIALIZED (SELECT pp.* FROM tessera_demo.user_profiles pp JOIN tessera_demo.users pu ON pu.id = pp.user_id WHERE ${cond('pu.id', user)} AND ${cond('pu.tenant_id', tenant)}),
  tenants AS NOT MATERIALIZED (SELECT * FROM tessera_demo.tenants WHERE ${cond('id', tenant)}),
  products AS NOT MATERIALIZED (SELECT * FROM tessera_demo.products)
`;
}

/** `to_char` in Cube's local time format. */
export const fmt = (expr: string): string => `to_char(${expr}, 'YYYY-MM-DD"T"HH24:MI:SS.MS')`;
/** A timestamptz column as local time in `zone` (a constant of the case). */
export const local = (column: string, zone = 'UTC'): string => `(${column} AT TIME ZONE '${zone}')`;
/** A truncated, formatted time bucket. */
export const bucket = (granularity: string, column: string, zone = 'UTC'): string => fmt(`date_trunc('${granularity}', ${local(column, zone)})`);
/** The instant of a local timestamp text in `zone`. */
export const at = (localText: string, zone = 'UTC'): string => `(timestamp '${localText}' AT TIME ZONE '${zone}')`;

export type Row = Record<string, unknown>;

/** An expected result: SQL (after the scope CTE) with optional parameters. */
export interface SqlSpec {
  readonly sql: string;
  readonly params?: readonly unknown[];
}

export interface ConformanceCase {
  /** A behaviour sentence; unique. */
  readonly name: string;
  readonly ctx: ContextName;
  /** A query object, or an array of them (blending). */
  readonly query: Record<string, unknown> | readonly Record<string, unknown>[];
  /** Send `queryType=multi` (the multi envelope). */
  readonly multi?: boolean;
  /** Hand-written SQL: one per result. A function is evaluated when the case runs (relative dates). */
  readonly sql: string | SqlSpec | (() => string | SqlSpec) | readonly (string | SqlSpec | (() => string | SqlSpec))[];
  /** Compare row order too (explicit or default order, limit/offset). */
  readonly ordered?: boolean;
  /** The expected row set may be empty (relative ranges past the data, contexts that see nothing). */
  readonly allowEmpty?: boolean;
  /** `total: true`: SQL that counts every row without limit/offset. */
  readonly totalSql?: string;
  /** The model folder: the demo model, or the demo plus `test/conformance/model/*.js`. */
  readonly model?: 'demo' | 'extended';
  /** Further checks on the response body; `api.sql()` fetches `/v1/sql` for the same query and context. */
  readonly verify?: (body: Record<string, unknown>, api: VerifyApi) => void | Promise<void>;
}

export interface VerifyApi {
  /** The `[text, params]` that `/cubejs-api/v1/sql` returns for the case's query (first query for arrays). */
  sql(): Promise<readonly [string, readonly unknown[]]>;
}

export interface ErrorCase {
  readonly name: string;
  readonly ctx: ContextName;
  readonly query: Record<string, unknown> | readonly Record<string, unknown>[];
  readonly multi?: boolean;
  readonly model?: 'demo' | 'extended';
  readonly status: number;
  readonly message: RegExp;
}

const NUMERIC = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/** One canonical text per value, so `"12"`, `12` and `12.00` compare equal and floats to 12 digits. */
export function canonical(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number' || (typeof value === 'string' && NUMERIC.test(value))) {
    const n = Number(value);
    if (Number.isInteger(n)) return String(n);
    return String(Number.parseFloat(n.toPrecision(12)));
  }
  if (value instanceof Date) return `date:${value.toISOString()}`;
  return JSON.stringify(value);
}

export function canonicalRow(row: Row): string {
  return Object.keys(row)
    .sort()
    .map((k) => `${k}=${canonical(row[k])}`)
    .join(' | ');
}

/**
 * Drops the backward-compatible plain `Cube.td` key that Cube adds next to `Cube.td.granularity`
 * (same value), unless the expected rows asked for it.
 */
export function withoutPlainTimeKeys(row: Row, expectedKeys: ReadonlySet<string>): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) {
    if (!expectedKeys.has(k)) {
      const granular = Object.keys(row).some((g) => g.startsWith(`${k}.`) && g.split('.').length === 3 && row[g] === v);
      if (granular) continue;
    }
    out[k] = v;
  }
  return out;
}

/** Rows of one result's `data`, whatever its `responseFormat`. */
export function rowsOf(data: unknown): Row[] {
  if (Array.isArray(data)) return data as Row[];
  const d = data as { members?: string[]; dataset?: unknown[][]; columns?: unknown[][] };
  expect(Array.isArray(d.members), `data has members: ${JSON.stringify(data).slice(0, 200)}`).toBe(true);
  const members = d.members as string[];
  if (d.dataset) return d.dataset.map((values) => Object.fromEntries(members.map((m, i) => [m, values[i]])));
  const columns = d.columns as unknown[][];
  expect(columns.length).toBe(members.length);
  const n = columns[0]?.length ?? 0;
  return Array.from({ length: n }, (_x, r) => Object.fromEntries(members.map((m, i) => [m, columns[i]?.[r]])));
}

export async function expectedRows(db: pg.Client, scope: Scope, spec: string | SqlSpec): Promise<Row[]> {
  const s = typeof spec === 'string' ? { sql: spec } : spec;
  const { rows } = await db.query<Row>(`${scopeCte(scope)}${s.sql}`, (s.params ?? []) as unknown[]);
  return rows;
}

/** Asserts that `actual` holds exactly the `expected` rows (in order when `ordered`). */
export function expectSameRows(actual: readonly Row[], expected: readonly Row[], ordered: boolean, label: string): void {
  const keys = new Set(expected.flatMap((r) => Object.keys(r)));
  const a = actual.map((r) => canonicalRow(withoutPlainTimeKeys(r, keys)));
  const e = expected.map(canonicalRow);
  if (ordered) expect(a, label).toEqual(e);
  else expect([...a].sort(), label).toEqual([...e].sort());
}

/** Demo schema plus the conformance model extras, assembled in a fresh folder inside the repo. */
export function extendedSchemaPath(): string {
  const extras = path.join(path.dirname(fileURLToPath(import.meta.url)), 'model');
  const base = path.join(REPO_ROOT, '.tessera', 'conformance-schema');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(path.join(base, 'model-'));
  for (const f of readdirSync(DEMO_SCHEMA_PATH)) cpSync(path.join(DEMO_SCHEMA_PATH, f), path.join(dir, f), { recursive: true });
  for (const f of readdirSync(extras)) cpSync(path.join(extras, f), path.join(dir, f));
  return dir;
}
