import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/create-database.js';
import type { Database } from '../../src/db/database.js';
import { testDatabaseUrl } from '../support/test-app.js';
import { failure } from '../support/engine-failure.js';

const silent = pino({ level: 'silent' });
const settings = { poolMax: 4, statementTimeoutMs: 10_000, connectionTimeoutMs: 3000 };

describe('createDatabase', () => {
  let db: Database;
  const lines: string[] = [];
  beforeAll(() => {
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    db = createDatabase({ ...settings, url: testDatabaseUrl() }, pino({ level: 'info' }, sink));
  });
  afterAll(async () => {
    await db.close();
  });

  it('returns numeric and bigint as strings, and date/time types as PostgreSQL text', async () => {
    const { rows, fields } = await db.query({
      sql: `select 12.50::numeric(10,2) as n, 9007199254740993::bigint as b, 7::int as i, true as t,
              timestamptz '2024-03-31 23:30:00+00' as tz, timestamp '2024-03-31 23:30:00.123' as ts,
              date '2024-02-29' as d, null::timestamptz as missing`,
      params: [],
    });
    expect(rows).toEqual([
      { n: '12.50', b: '9007199254740993', i: 7, t: true, tz: '2024-03-31 23:30:00+00', ts: '2024-03-31 23:30:00.123', d: '2024-02-29', missing: null },
    ]);
    expect(fields.map((f) => [f.name, f.dataTypeID])).toEqual([
      ['n', 1700], ['b', 20], ['i', 23], ['t', 16], ['tz', 1184], ['ts', 1114], ['d', 1082], ['missing', 1184],
    ]);
  });

  it('reads timestamptz in UTC whatever the server default is', async () => {
    const { rows } = await db.query({ sql: "select timestamptz '2024-06-01 02:00:00+02' as tz, current_setting('TimeZone') as zone", params: [] });
    expect(rows[0]).toEqual({ tz: '2024-06-01 00:00:00+00', zone: 'UTC' });
  });

  it('binds parameters as values, never as SQL', async () => {
    const hostile = "'; drop table tessera_demo.orders; --";
    const { rows } = await db.query({ sql: 'select $1::text as v, (select count(*) from tessera_demo.orders) > 0 as intact', params: [hostile] });
    expect(rows[0]).toEqual({ v: hostile, intact: true });
  });

  it('names the connection tessera so operators can find it in pg_stat_activity', async () => {
    const { rows } = await db.query({ sql: "select current_setting('application_name') as app", params: [] });
    expect(rows[0]).toEqual({ app: 'tessera' });
  });

  it('answers ping when the database is up', async () => {
    await expect(db.ping()).resolves.toBeUndefined();
  });

  it('turns a failing statement into ERR_DB_QUERY_FAILED with a generic message, logging the raw one', async () => {
    lines.length = 0;
    const err = await failure(db.query({ sql: 'select * from no_such_table_xyz where a = $1', params: ['p-secret-value'] }));
    expect(err.code).toBe('ERR_DB_QUERY_FAILED');
    expect(err.message).toBe('The query failed in the database.');
    expect(err.message).not.toContain('no_such_table_xyz');
    const log = lines.join('');
    expect(log).toContain('relation \\"no_such_table_xyz\\" does not exist');
    expect(log).not.toContain('p-secret-value');
  });

  it('turns a value that does not fit its column into ERR_QUERY_INVALID_VALUE', async () => {
    const err = await failure(db.query({ sql: 'select $1::int as v', params: ['not-a-number'] }));
    expect(err.code).toBe('ERR_QUERY_INVALID_VALUE');
    expect(err.message).not.toContain('not-a-number');
  });
});

describe('createDatabase timeouts and outages', () => {
  it('maps a statement timeout to ERR_DB_TIMEOUT', async () => {
    const db = createDatabase({ ...settings, statementTimeoutMs: 50, url: testDatabaseUrl() }, silent);
    try {
      const err = await failure(db.query({ sql: 'select pg_sleep(5)', params: [] }));
      expect(err.code).toBe('ERR_DB_TIMEOUT');
    } finally {
      await db.close();
    }
  });

  it('maps waiting too long for a pooled connection to ERR_DB_UNAVAILABLE with Retry-After', async () => {
    const db = createDatabase({ poolMax: 1, statementTimeoutMs: 10_000, connectionTimeoutMs: 200, url: testDatabaseUrl() }, silent);
    try {
      const busy = db.query({ sql: 'select pg_sleep(1.5)', params: [] });
      const err = await failure(db.query({ sql: 'select 1', params: [] }));
      expect(err.code).toBe('ERR_DB_UNAVAILABLE');
      expect(err.headers['Retry-After']).toBe('1');
      await busy;
    } finally {
      await db.close();
    }
  });

  it('maps a refused connection to ERR_DB_UNAVAILABLE, for queries and for ping', async () => {
    // Nothing listens on port 1.
    const db = createDatabase({ ...settings, url: 'postgres://postgres@127.0.0.1:1/none' }, silent);
    try {
      const err = await failure(db.query({ sql: 'select 1', params: [] }));
      expect(err.code).toBe('ERR_DB_UNAVAILABLE');
      expect(err.message).toBe('The database is unavailable.');
      expect((await failure(db.ping())).code).toBe('ERR_DB_UNAVAILABLE');
    } finally {
      await db.close();
    }
  });

  it('maps a database that does not exist to ERR_DB_UNAVAILABLE', async () => {
    const url = new URL(testDatabaseUrl());
    url.pathname = '/tessera_no_such_database';
    const db = createDatabase({ ...settings, url: url.toString() }, silent);
    try {
      expect((await failure(db.query({ sql: 'select 1', params: [] }))).code).toBe('ERR_DB_UNAVAILABLE');
    } finally {
      await db.close();
    }
  });
});
