/**
 * The audit log over HTTP against the real PostgreSQL: one record per data
 * request, allowed or denied, read back from where the operator configured it.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditLog } from '../../src/audit/create-audit-log.js';
import { openAppAndDatabase, type AppAndDatabase } from '../support/app-and-database.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { signToken, userToken } from '../support/tokens.js';

const auditOf = (t: TestApp): AuditLog => t.app.locals.audit as AuditLog;

function readRecords(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Flushes until every id has a record: a record is written at the response's 'finish', which may follow the client's read. */
async function flushedRecords(t: TestApp, file: string, ids: readonly string[]): Promise<Record<string, unknown>[]> {
  for (let attempt = 0; ; attempt++) {
    await auditOf(t).close();
    const records = readRecords(file);
    if (ids.every((id) => records.some((r) => r.requestId === id)) || attempt >= 100) return records;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const byId = (records: Record<string, unknown>[], id: string) => {
  const found = records.filter((r) => r.requestId === id);
  expect(found).toHaveLength(1);
  return found[0]!;
};

describe('TESSERA_AUDIT=file:<path>', () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'tessera-audit-')), 'audit.jsonl');
  let env: AppAndDatabase;

  beforeAll(async () => {
    env = await openAppAndDatabase({ env: { TESSERA_AUDIT: `file:${file}`, TESSERA_AUDIT_CLAIM_VALUES: 'tenant_id' } });
  });
  afterAll(() => env.close());

  it('records who read which cube under which row filter, and who was refused at authentication', async () => {
    const query = { measures: ['Orders.count'], dimensions: ['Orders.status'], filters: [{ member: 'Users.city', operator: 'equals', values: ['Paris'] }] };
    const allowed = await request(env.app.app).post('/cubejs-api/v1/load').set('Authorization', userToken(42)).set('x-request-id', 'audit-allowed-1').send({ query });
    expect(allowed.status).toBe(200);
    const denied = await request(env.app.app).post('/cubejs-api/v1/load').set('Authorization', signToken({ sub: 'mallory' }, { secret: 'another-secret-of-enough-length-000' })).set('x-request-id', 'audit-denied-1').send({ query });
    expect(denied.status).toBe(403);
    const anonymous = await request(env.app.app).get('/cubejs-api/v1/meta').set('x-request-id', 'audit-denied-2');
    expect(anonymous.status).toBe(403);
    const meta = await request(env.app.app).get('/cubejs-api/v1/meta').set('Authorization', userToken(7)).set('x-request-id', 'audit-meta-1');
    expect(meta.status).toBe(200);
    const records = await flushedRecords(env.app, file, ['audit-allowed-1', 'audit-denied-1', 'audit-denied-2', 'audit-meta-1']);
    const { rows } = await env.db.query(
      `select count(distinct o.status)::int as n from tessera_demo.orders o join tessera_demo.users u on u.id = o.user_id
        where o.user_id = 42 and o.tenant_id = 2 and u.city = 'Paris'`,
    );
    expect(byId(records, 'audit-allowed-1')).toMatchObject({
      route: '/cubejs-api/v1/load',
      method: 'POST',
      subject: 'user-42',
      authMethod: 'jwt',
      cubes: expect.arrayContaining(['Orders', 'Users']),
      members: ['Orders.count', 'Orders.status', 'Users.city'],
      rowFilters: expect.arrayContaining(['Orders.sql(id, tenant_id)']),
      decision: 'allow',
      status: 200,
      rows: rows[0].n,
      clientIp: expect.stringMatching(/127\.0\.0\.1/),
      durationMs: expect.any(Number),
    });
    const claims = byId(records, 'audit-allowed-1').claims as Record<string, unknown>;
    // Names only, except the one claim the operator chose to reveal.
    expect(claims).toMatchObject({ sub: '[redacted]', tenant_id: 2, id: '[redacted]' });

    expect(byId(records, 'audit-denied-1')).toMatchObject({ route: '/cubejs-api/v1/load', decision: 'deny', code: 'ERR_AUTH_INVALID_TOKEN', authMethod: 'token', status: 403 });
    expect(byId(records, 'audit-denied-1').subject).toBeUndefined();
    expect(byId(records, 'audit-denied-2')).toMatchObject({ route: '/cubejs-api/v1/meta', decision: 'deny', code: 'ERR_AUTH_MISSING', authMethod: 'none' });
    expect(byId(records, 'audit-meta-1')).toMatchObject({ route: '/cubejs-api/v1/meta', decision: 'allow', subject: 'user-7' });
    // The token itself never reaches the audit log.
    expect(readFileSync(file, 'utf8')).not.toContain(userToken(42).split('.')[2]!);
  });

  it('counts the rows of a request answered from a stored response, as of one that ran', async () => {
    // A fresh user, so nothing of this query is cached yet: miss, then a row hit (the response is stored), then the stored response.
    const query = JSON.stringify({ measures: ['Orders.count'], dimensions: ['Orders.status'] });
    const token = userToken(31);
    const ids = ['audit-cache-1', 'audit-cache-2', 'audit-cache-3'];
    const bodies: unknown[] = [];
    for (const id of ids) {
      const res = await request(env.app.app).get('/cubejs-api/v1/load').query({ query }).set('Authorization', token).set('x-request-id', id);
      expect(res.status).toBe(200);
      bodies.push(res.body.data);
    }
    const { rows } = await env.db.query(`select count(distinct status)::int as n from tessera_demo.orders where user_id = 31 and tenant_id = 1`);
    expect(rows[0].n).toBeGreaterThan(0);
    expect((bodies[0] as unknown[]).length).toBe(rows[0].n);
    const records = await flushedRecords(env.app, file, ids);
    expect(ids.map((id) => [byId(records, id).cache, byId(records, id).rows])).toEqual([
      ['miss', rows[0].n],
      ['hit', rows[0].n],
      ['hit', rows[0].n],
    ]);
  });

  it('records an operator write, and not operator reads', async () => {
    await request(env.app.app).post('/api/auth/login').set('x-request-id', 'audit-op-1').send({ password: 'wrong' });
    await request(env.app.app).get('/api/keys').set('x-request-id', 'audit-op-2');
    await request(env.app.app).post('/api/auth/logout').set('x-request-id', 'audit-op-3');
    // Records are written in order, so once the later write is there the read would be too.
    const records = await flushedRecords(env.app, file, ['audit-op-1', 'audit-op-3']);
    expect(byId(records, 'audit-op-1')).toMatchObject({ route: '/api/auth/login', method: 'POST', decision: 'deny' });
    expect(records.filter((r) => r.requestId === 'audit-op-2')).toEqual([]);
  });
});

describe('a sink that cannot write', () => {
  it('answers every request, logs the failure once and counts each lost record', async () => {
    const lines: string[] = [];
    const t = await createTestApp({ env: { TESSERA_AUDIT: 'file:/dev/full', LOG_LEVEL: 'error' }, logDestination: { write: (l) => void lines.push(l) } });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await request(t.app).get('/cubejs-api/v1/load').query({ query: JSON.stringify({ measures: ['Orders.count'] }) }).set('Authorization', userToken(42));
        expect(res.status).toBe(200);
        await new Promise((r) => setTimeout(r, 20));
      }
      await auditOf(t).close();
      expect(auditOf(t).dropped()).toBeGreaterThanOrEqual(1);
      expect(lines.filter((l) => l.includes('audit records could not be written'))).toHaveLength(1);
      const metrics = await request(t.app).get('/metrics');
      expect(Number(/^tessera_audit_records_dropped_total (\d+)/m.exec(metrics.text)?.[1])).toBe(auditOf(t).dropped());
    } finally {
      await t.close();
    }
  });
});

describe('TESSERA_AUDIT=postgres', () => {
  it('writes the records into the operator schema', async () => {
    const env = await openAppAndDatabase({ env: { TESSERA_AUDIT: 'postgres' } });
    try {
      const id = `audit-pg-${Date.now()}`;
      await request(env.app.app).get('/cubejs-api/v1/load').query({ query: JSON.stringify({ measures: ['Orders.count'] }) }).set('Authorization', userToken(42)).set('x-request-id', id);
      await request(env.app.app).get('/cubejs-api/v1/load').query({ query: JSON.stringify({ measures: ['Orders.count'] }) }).set('x-request-id', `${id}-denied`);
      let rows: { record: Record<string, string> }[] = [];
      for (let attempt = 0; rows.length < 2 && attempt < 100; attempt++) {
        await auditOf(env.app).close();
        ({ rows } = await env.db.query(`select record from tessera_meta.audit_log where record->>'requestId' like $1 order by id`, [`${id}%`]));
        if (rows.length < 2) await new Promise((r) => setTimeout(r, 50));
      }
      expect(rows.map((r) => [r.record.requestId, r.record.decision, r.record.subject ?? null])).toEqual([
        [id, 'allow', 'user-42'],
        [`${id}-denied`, 'deny', null],
      ]);
    } finally {
      await env.close();
    }
  });
});
