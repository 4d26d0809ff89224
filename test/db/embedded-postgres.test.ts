import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';

async function scalar(url: string, sql: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = (await client.query(sql)) as pg.QueryResult | pg.QueryResult[];
    const last = Array.isArray(result) ? result[result.length - 1]! : result;
    return last.rows[0] === undefined ? undefined : Object.values(last.rows[0] as object)[0];
  } finally {
    await client.end();
  }
}

describe('startEmbeddedPostgres', () => {
  it('initialises a new data directory once, keeps data across restarts, and stops', async () => {
    const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'tessera-embedded-')), 'pgdata');
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write(c, _e, done) { lines.push(String(c)); done(); } }));

    const first = await startEmbeddedPostgres({ dataDir, logger });
    try {
      expect(new URL(first.url).pathname).toBe('/tessera');
      expect(new URL(first.url).hostname).toBe('127.0.0.1');
      await scalar(first.url, 'create table kept (v text); insert into kept values (\'still here\')');
    } finally {
      await first.stop();
    }
    await expect(scalar(first.url, 'select 1')).rejects.toThrow();

    const second = await startEmbeddedPostgres({ dataDir, logger });
    try {
      expect(await scalar(second.url, 'select v from kept')).toBe('still here');
    } finally {
      await second.stop();
    }
    const started = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'embedded PostgreSQL started');
    expect(started.map((l) => l.initialised)).toEqual([true, false]);
    expect(started.every((l) => typeof l.startMs === 'number')).toBe(true);
  });
});
