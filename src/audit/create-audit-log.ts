/**
 * Where audit records go: stdout, an append-only file, or a PostgreSQL table.
 * Writing never blocks or fails a request: records are buffered and written
 * asynchronously; a failing sink (a full disk) is logged once and every lost record is counted.
 */
import type { Knex } from 'knex';
import { pino, type Logger } from 'pino';
import type { AuditConfig } from '../config/config.js';
import { quoteIdentifier } from '../render/dialects/postgres.js';
import type { AuditRecord } from './audit-record.js';

export interface AuditLog {
  readonly enabled: boolean;
  write(record: AuditRecord): void;
  /** Records that could not be written. */
  readonly dropped: () => number;
  /** Flushes what is buffered. */
  close(): Promise<void>;
}

/** Bytes buffered in memory for a slow stdout or file before new records are dropped (and counted). */
const MAX_BUFFER_BYTES = 16 * 1024 * 1024;
const PG_BATCH = 200;
const PG_MAX_QUEUE = 10_000;
const PG_FLUSH_MS = 500;

const OFF: AuditLog = { enabled: false, write: () => undefined, dropped: () => 0, close: async () => undefined };

export function createAuditLog(
  config: AuditConfig | undefined,
  deps: { logger: Logger; knex?: Knex | undefined; metaSchema?: string | undefined; onDrop?: (count: number) => void },
): AuditLog {
  const target = config?.target ?? { kind: 'off' };
  if (target.kind === 'off') return OFF;
  const log = deps.logger.child({ component: 'audit' });
  let dropped = 0;
  let reported = false;
  const lose = (count: number, err?: unknown): void => {
    dropped += count;
    deps.onDrop?.(count);
    if (!reported) {
      reported = true;
      log.error({ err: err instanceof Error ? { message: err.message, code: (err as NodeJS.ErrnoException).code } : undefined, target: target.kind }, 'audit records could not be written; further losses are only counted');
    }
  };
  if (target.kind === 'postgres') return postgresAuditLog(deps.knex, deps.metaSchema ?? 'tessera_meta', lose, () => dropped);

  const dest = pino.destination({ dest: target.kind === 'stdout' ? 1 : target.path, sync: false, mkdir: true, maxLength: MAX_BUFFER_BYTES });
  let broken = false;
  dest.on('error', (err: unknown) => {
    broken = true;
    lose(1, err);
  });
  dest.on('drop', (data: string) => lose(Math.max(1, data.split('\n').length - 1)));
  return {
    enabled: true,
    write(record) {
      if (broken) {
        lose(1);
        return;
      }
      try {
        dest.write(`${JSON.stringify(record)}\n`);
      } catch (err) {
        broken = true;
        lose(1, err);
      }
    },
    dropped: () => dropped,
    close: () =>
      new Promise<void>((resolve) => {
        if (broken) return resolve();
        try {
          dest.flush((err) => {
            if (err) lose(0, err);
            resolve();
          });
        } catch {
          resolve();
        }
      }),
  };
}

function postgresAuditLog(knex: Knex | undefined, schema: string, lose: (count: number, err?: unknown) => void, dropped: () => number): AuditLog {
  if (!knex) throw new Error('TESSERA_AUDIT=postgres needs a database');
  const table = `${quoteIdentifier(schema)}.${quoteIdentifier('audit_log')}`;
  const ready = knex
    .raw(`create schema if not exists ${quoteIdentifier(schema)}; create table if not exists ${table} (id bigserial primary key, time timestamptz not null, record jsonb not null)`)
    .then(() => true, (err: unknown) => {
      lose(0, err);
      return false;
    });
  let queue: AuditRecord[] = [];
  let flushing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const flush = async (): Promise<void> => {
    timer = undefined;
    while (queue.length > 0) {
      const batch = queue.slice(0, PG_BATCH);
      queue = queue.slice(PG_BATCH);
      if (!(await ready)) {
        lose(batch.length);
        continue;
      }
      try {
        await knex.raw(
          `insert into ${table} (time, record) select (r->>'time')::timestamptz, r from jsonb_array_elements(?::jsonb) r`,
          [JSON.stringify(batch)],
        );
      } catch (err) {
        lose(batch.length, err);
      }
    }
  };
  const schedule = (): void => {
    if (timer || flushing) return;
    timer = setTimeout(() => {
      flushing = flush().finally(() => {
        flushing = undefined;
        if (queue.length > 0) schedule();
      });
    }, PG_FLUSH_MS);
    timer.unref();
  };
  return {
    enabled: true,
    write(record) {
      if (queue.length >= PG_MAX_QUEUE) {
        lose(1);
        return;
      }
      queue.push(record);
      schedule();
    },
    dropped,
    async close() {
      if (timer) clearTimeout(timer);
      await flushing;
      await flush();
    },
  };
}
