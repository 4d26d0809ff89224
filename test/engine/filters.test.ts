/**
 * Every filter operator over HTTP, checked against hand-written SQL on the demo data.
 * The hand-written conditions use other formulations (strpos, left/right, IS DISTINCT FROM)
 * than the compiler does, so a shared mistake is unlikely.
 */
import request from 'supertest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAppAndDatabase } from '../support/app-and-database.js';
import type { TestApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';

let t: TestApp;
let db: pg.Client;
let close: () => Promise<void>;
const TENANT = 2;
const token = signToken({ tenant_id: TENANT });

beforeAll(async () => {
  ({ app: t, db, close } = await openAppAndDatabase());
});
afterAll(() => close());

type Filter = Record<string, unknown>;

interface Case {
  readonly name: string;
  readonly filters: readonly Filter[];
  /** Condition on tessera_demo.orders, added to `tenant_id = 2`. */
  readonly where: string;
  readonly timezone?: string;
  readonly having?: string;
  readonly segments?: readonly string[];
}

const f = (member: string, operator: string, values?: unknown[]): Filter => (values ? { member, operator, values } : { member, operator });

const CASES: readonly Case[] = [
  { name: 'equals one value', filters: [f('Orders.status', 'equals', ['completed'])], where: `status = 'completed'` },
  { name: 'equals several values', filters: [f('Orders.status', 'equals', ['completed', 'shipped'])], where: `status = ANY (ARRAY['completed', 'shipped'])` },
  { name: 'equals null', filters: [f('Orders.notes', 'equals', [null])], where: `notes IS NULL` },
  { name: 'equals a value or null', filters: [f('Orders.notes', 'equals', ['Leave at the door', null])], where: `notes IS NULL OR notes = 'Leave at the door'` },
  { name: 'in (alias of equals)', filters: [f('Orders.status', 'in', ['cancelled', 'processing'])], where: `status = ANY (ARRAY['cancelled', 'processing'])` },
  { name: 'notEquals keeps nulls', filters: [f('Orders.notes', 'notEquals', ['Leave at the door'])], where: `notes IS DISTINCT FROM 'Leave at the door'` },
  { name: 'notEquals several values', filters: [f('Orders.status', 'notEquals', ['completed', 'shipped'])], where: `NOT (status = ANY (ARRAY['completed', 'shipped']))` },
  { name: 'notIn (alias of notEquals)', filters: [f('Orders.notes', 'notIn', ['Leave at the door', ''])], where: `notes IS NULL OR NOT (notes = ANY (ARRAY['Leave at the door', '']))` },
  { name: 'notEquals null', filters: [f('Orders.notes', 'notEquals', [null])], where: `notes IS NOT NULL` },
  { name: 'contains a literal percent sign', filters: [f('Orders.notes', 'contains', ['%'])], where: `strpos(notes, '%') > 0` },
  { name: 'contains a literal underscore', filters: [f('Orders.notes', 'contains', ['f_a'])], where: `strpos(lower(notes), 'f_a') > 0` },
  { name: 'contains a backslash', filters: [f('Orders.notes', 'contains', ['c:\\orders'])], where: `strpos(lower(notes), 'c:\\orders') > 0` },
  { name: 'contains is case-insensitive', filters: [f('Orders.notes', 'contains', ['DOOR'])], where: `strpos(lower(notes), 'door') > 0` },
  { name: 'contains any of several values', filters: [f('Orders.notes', 'contains', ['door', 'rush'])], where: `strpos(lower(notes), 'door') > 0 OR strpos(lower(notes), 'rush') > 0` },
  { name: 'contains a quote', filters: [f('Orders.notes', 'contains', [`o'brien`])], where: `strpos(lower(notes), 'o''brien') > 0` },
  { name: 'notContains keeps nulls', filters: [f('Orders.notes', 'notContains', ['door'])], where: `notes IS NULL OR strpos(lower(notes), 'door') = 0` },
  { name: 'notContains several values', filters: [f('Orders.notes', 'notContains', ['door', '%'])], where: `notes IS NULL OR (strpos(lower(notes), 'door') = 0 AND strpos(notes, '%') = 0)` },
  { name: 'startsWith', filters: [f('Orders.notes', 'startsWith', ['leave'])], where: `left(lower(notes), 5) = 'leave'` },
  { name: 'startsWith a wildcard character', filters: [f('Orders.notes', 'startsWith', ['50%'])], where: `left(notes, 3) = '50%'` },
  { name: 'notStartsWith', filters: [f('Orders.notes', 'notStartsWith', ['50%'])], where: `notes IS NULL OR left(notes, 3) <> '50%'` },
  { name: 'endsWith', filters: [f('Orders.notes', 'endsWith', ['ORDER'])], where: `right(lower(notes), 5) = 'order'` },
  { name: 'notEndsWith', filters: [f('Orders.notes', 'notEndsWith', ['door'])], where: `notes IS NULL OR right(lower(notes), 4) <> 'door'` },
  { name: 'gt on a number', filters: [f('Orders.amount', 'gt', [500])], where: `amount > 500` },
  { name: 'gte on a number given as a string', filters: [f('Orders.amount', 'gte', ['499.5'])], where: `amount >= 499.5` },
  { name: 'lt', filters: [f('Orders.quantity', 'lt', [3])], where: `quantity < 3` },
  { name: 'lte', filters: [f('Orders.quantity', 'lte', [3])], where: `quantity <= 3` },
  { name: 'equals on a number', filters: [f('Orders.quantity', 'equals', [2, 4])], where: `quantity IN (2, 4)` },
  { name: 'equals on a boolean', filters: [f('Orders.isShipped', 'equals', [true])], where: `shipped_at IS NOT NULL` },
  { name: 'set', filters: [f('Orders.shippedAt', 'set')], where: `shipped_at IS NOT NULL` },
  { name: 'notSet', filters: [f('Orders.notes', 'notSet')], where: `notes IS NULL` },
  { name: 'inDateRange in UTC', filters: [f('Orders.createdAt', 'inDateRange', ['2024-03-01', '2024-03-31'])], where: `created_at >= '2024-03-01T00:00:00Z' AND created_at < '2024-04-01T00:00:00Z'` },
  {
    name: 'inDateRange in another timezone',
    timezone: 'America/New_York',
    filters: [f('Orders.createdAt', 'inDateRange', ['2024-03-01', '2024-03-31'])],
    where: `created_at >= timestamptz '2024-03-01 00:00:00 America/New_York' AND created_at < timestamptz '2024-04-01 00:00:00 America/New_York'`,
  },
  {
    name: 'inDateRange with times',
    filters: [f('Orders.createdAt', 'inDateRange', ['2024-03-01T06:00:00', '2024-03-01T18:30:00.000'])],
    where: `created_at BETWEEN '2024-03-01T06:00:00Z' AND '2024-03-01T18:30:00Z'`,
  },
  { name: 'notInDateRange', filters: [f('Orders.createdAt', 'notInDateRange', ['2024-01-01', '2024-12-31'])], where: `NOT (created_at >= '2024-01-01Z' AND created_at < '2025-01-01Z')` },
  { name: 'beforeDate', filters: [f('Orders.createdAt', 'beforeDate', ['2023-02-01'])], where: `created_at < '2023-02-01T00:00:00Z'` },
  { name: 'beforeOrOnDate', filters: [f('Orders.createdAt', 'beforeOrOnDate', ['2023-02-01'])], where: `created_at <= '2023-02-01T00:00:00Z'` },
  { name: 'afterDate', filters: [f('Orders.createdAt', 'afterDate', ['2025-11-30'])], where: `created_at > '2025-11-30T00:00:00Z'` },
  { name: 'afterOrOnDate', filters: [f('Orders.createdAt', 'afterOrOnDate', ['2025-11-30'])], where: `created_at >= '2025-11-30T00:00:00Z'` },
  {
    name: 'afterOrOnDate in Asia/Kolkata',
    timezone: 'Asia/Kolkata',
    filters: [f('Orders.createdAt', 'afterOrOnDate', ['2025-11-30'])],
    where: `created_at >= timestamptz '2025-11-30 00:00:00 Asia/Kolkata'`,
  },
  {
    name: 'nested or / and groups',
    filters: [{ or: [f('Orders.status', 'equals', ['cancelled']), { and: [f('Orders.amount', 'gt', [900]), f('Orders.notes', 'set')] }] }],
    where: `status = 'cancelled' OR (amount > 900 AND notes IS NOT NULL)`,
  },
  { name: 'several top-level filters are ANDed', filters: [f('Orders.status', 'equals', ['shipped']), f('Orders.quantity', 'gte', [4])], where: `status = 'shipped' AND quantity >= 4` },
  { name: 'a segment', filters: [], segments: ['Orders.highValue'], where: `amount > 500` },
  { name: 'a measure filter becomes HAVING', filters: [f('Orders.count', 'gt', [5000])], where: 'true', having: 'count(*) > 5000' },
  { name: 'a measure filter on a sum', filters: [f('Orders.totalAmount', 'lte', [5000000])], where: 'true', having: 'sum(amount) <= 5000000' },
];

async function viaTessera(c: Case): Promise<string[]> {
  const query = {
    measures: ['Orders.count', 'Orders.totalAmount'],
    dimensions: ['Orders.status'],
    filters: c.filters,
    ...(c.segments ? { segments: c.segments } : {}),
    ...(c.timezone ? { timezone: c.timezone } : {}),
  };
  const res = await request(t.app).post('/cubejs-api/v1/load').set('Authorization', token).send({ query });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return (res.body.data as Record<string, string>[])
    .map((r) => `${r['Orders.status']}|${r['Orders.count']}|${r['Orders.totalAmount']}`)
    .sort();
}

async function viaSql(c: Case): Promise<string[]> {
  const having = c.having ? ` HAVING ${c.having}` : '';
  const { rows } = await db.query<{ status: string; n: string; total: string }>(
    `SELECT status, count(*)::text AS n, sum(amount)::text AS total FROM tessera_demo.orders WHERE tenant_id = $1 AND (${c.where}) GROUP BY status${having}`,
    [TENANT],
  );
  return rows.map((r) => `${r.status}|${r.n}|${r.total}`).sort();
}

describe('filter operators match hand-written SQL', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const expected = await viaSql(c);
    expect(expected.length, 'the case must select some rows').toBeGreaterThan(0);
    expect(await viaTessera(c)).toEqual(expected);
  });

  it('covers every operator of the query format', () => {
    const used = new Set<string>();
    const walk = (x: Filter) => ('or' in x || 'and' in x ? ((x.or ?? x.and) as Filter[]).forEach(walk) : used.add(String(x.operator)));
    CASES.forEach((c) => c.filters.forEach(walk));
    for (const op of ['equals', 'notEquals', 'contains', 'notContains', 'startsWith', 'notStartsWith', 'endsWith', 'notEndsWith', 'gt', 'gte', 'lt', 'lte', 'set', 'notSet', 'inDateRange', 'notInDateRange', 'beforeDate', 'afterDate']) {
      expect(used, op).toContain(op);
    }
  });
});
