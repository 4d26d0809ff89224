/**
 * When a cached result goes stale: each cube's `refresh_key`, as Cube defines it. `every` is a
 * time bucket; `sql` is the value of that statement, checked at most once per interval per data
 * source; a cube without one gets Cube's default, `every: '10 second'`. A query's state joins
 * the states of all its cubes and its entry lives until the earliest of them may change.
 */
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import type { Cube, Model, SqlRenderContext } from '../schema/model.js';
import { encodeValue } from './cache-key.js';

export interface RefreshState {
  /** Part of the cache key: changes whenever any cube's refresh key does. */
  readonly state: string;
  /** How long an entry made now may be served. */
  readonly ttlMs: number;
}

export interface RefreshPolicyOptions {
  readonly model: Model;
  /** Runs `refresh_key.sql` statements (the undecorated database). */
  readonly db: Database;
  readonly now: () => number;
  /** Cube's default for a cube without `refresh_key` (10 s). */
  readonly defaultEveryMs: number;
  /** Upper bound on an entry's life when only a `refresh_key.sql` governs it. */
  readonly maxAgeMs: number;
  readonly logger?: Logger | undefined;
}

export interface RefreshPolicy {
  /** The refresh state of `cubes` (all model cubes' defaults when unknown) on `dataSource`. */
  stateFor(cubes: readonly string[] | undefined, dataSource: string): RefreshState | Promise<RefreshState>;
}

const UNIT_MS: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 604_800_000 };
const UNIT_ALIASES: Record<string, string> = { s: 'second', sec: 'second', m: 'minute', min: 'minute', h: 'hour', d: 'day', w: 'week' };

/** Cube's `every` durations (`1 hour`, `30 seconds`, `10 minute`, `5m`); undefined for anything else (e.g. cron). */
export function parseEveryMs(every: string): number | undefined {
  const m = /^\s*(\d+)\s*([a-z]+?)s?\s*$/i.exec(every);
  if (!m) return undefined;
  const word = (m[2] as string).toLowerCase();
  const unit = UNIT_MS[word] ?? UNIT_MS[UNIT_ALIASES[word] ?? ''];
  const n = Number(m[1]);
  return unit !== undefined && n > 0 ? n * unit : undefined;
}

type CubeRule =
  | { readonly kind: 'every'; readonly everyMs: number }
  | { readonly kind: 'sql'; readonly sql: string; readonly params: readonly unknown[]; readonly checkEveryMs: number };

/** A refresh-key statement is global: it renders with no security context and no member references. */
function renderRefreshSql(cube: Cube, template: NonNullable<NonNullable<Cube['refreshKey']>['sql']>): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const ctx: SqlRenderContext = {
    cubeRef: () => {
      throw new Error(`refresh_key.sql of ${cube.name} may not reference a cube`);
    },
    memberRef: () => {
      throw new Error(`refresh_key.sql of ${cube.name} may not reference a member`);
    },
    param: (value) => {
      params.push(value);
      return `$${params.length}`;
    },
    securityContext: Object.freeze({}),
  };
  return { sql: template(ctx), params };
}

export function createRefreshPolicy(opts: RefreshPolicyOptions): RefreshPolicy {
  const { model, db, now, defaultEveryMs, maxAgeMs, logger } = opts;
  const defaultRule: CubeRule = { kind: 'every', everyMs: defaultEveryMs };

  // Rules are derived once per model at start-up, not per request.
  const rules = new Map<string, CubeRule>();
  for (const cube of model.cubes.values()) {
    const key = cube.refreshKey;
    let rule: CubeRule = defaultRule;
    const everyMs = key?.every === undefined ? undefined : parseEveryMs(key.every);
    if (key?.every !== undefined && everyMs === undefined) {
      logger?.warn({ cube: cube.name }, 'refresh_key.every is not a duration Tessera understands; using the 10 second default');
    }
    if (key?.sql) {
      try {
        const { sql, params } = renderRefreshSql(cube, key.sql);
        rule = { kind: 'sql', sql, params, checkEveryMs: everyMs ?? defaultEveryMs };
      } catch (err) {
        logger?.warn({ cube: cube.name, err: { message: (err as Error).message } }, 'refresh_key.sql could not be rendered; using the 10 second default');
      }
    } else if (everyMs !== undefined) {
      rule = { kind: 'every', everyMs };
    }
    rules.set(cube.name, rule);
  }

  // The last value of each refresh statement, per data source; one check at a time per statement.
  const checks = new Map<string, { value: string; checkedAtMs: number } | Promise<string>>();

  const sqlValue = (rule: Extract<CubeRule, { kind: 'sql' }>, dataSource: string): string | Promise<string> => {
    const id = JSON.stringify([dataSource, rule.sql, rule.params.map(encodeValue)]);
    const held = checks.get(id);
    if (held instanceof Promise) return held;
    if (held && now() - held.checkedAtMs < rule.checkEveryMs) return held.value;
    const started = now();
    const check = db.query({ sql: rule.sql, params: rule.params, dataSource }).then(
      (r) => {
        const value = JSON.stringify(r.rows.map((row) => Object.values(row).map(encodeValue)));
        checks.set(id, { value, checkedAtMs: started });
        return value;
      },
      (err: unknown) => {
        checks.delete(id);
        throw err;
      },
    );
    checks.set(id, check);
    return check;
  };

  return {
    stateFor(cubes, dataSource) {
      const nowMs = now();
      const names = cubes && cubes.length > 0 ? cubes : undefined;
      const list = names ? names.map((c) => [c, rules.get(c) ?? defaultRule] as const) : [['*', defaultRule] as const];
      let ttlMs = Number.POSITIVE_INFINITY;
      const parts: (string | Promise<string>)[] = [];
      for (const [name, rule] of list) {
        if (rule.kind === 'every') {
          const bucket = Math.floor(nowMs / rule.everyMs);
          ttlMs = Math.min(ttlMs, (bucket + 1) * rule.everyMs - nowMs);
          parts.push(`${name}:e${rule.everyMs}:${bucket}`);
        } else {
          ttlMs = Math.min(ttlMs, maxAgeMs);
          const v = sqlValue(rule, dataSource);
          parts.push(typeof v === 'string' ? `${name}:s:${v}` : v.then((x) => `${name}:s:${x}`));
        }
      }
      const finish = (states: readonly string[]): RefreshState => ({ state: states.join('|'), ttlMs: Math.max(1, ttlMs) });
      return parts.every((p) => typeof p === 'string')
        ? finish(parts as string[])
        : Promise.all(parts).then(finish);
    },
  };
}
