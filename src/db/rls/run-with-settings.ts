/**
 * Row-level security as a second line: a statement with session settings runs
 * in its own short transaction under the configured role, with the caller's
 * claims in `request.jwt.claims` (PostgREST's and Supabase's convention), so
 * the database's own policies filter rows even when the model forgets to.
 */
import type pg from 'pg';
import type { Config } from '../../config/config.js';
import type { SecurityContext } from '../../schema/model.js';
import type { CompiledSql } from '../database.js';

export type SessionSettings = NonNullable<CompiledSql['settings']>;

/** The settings a caller's statements run with: undefined when row-level security is off. */
export function sessionSettingsFor(config: Pick<Config, 'database'>, securityContext: SecurityContext): CompiledSql['settings'] {
  if (!config.database.rowLevelSecurity) return undefined;
  return Object.freeze({ role: config.database.rlsRole ?? 'tessera_query', claims: JSON.stringify(securityContext) });
}

const CLAIMS_SQL = `SELECT set_config('request.jwt.claims', $1, true)`;
const ROLE_AND_CLAIMS_SQL = `SELECT set_config('request.jwt.claims', $1, true), set_config('role', $2, true)`;

/**
 * BEGIN; set role and claims transaction-locally; the statement; COMMIT, on the caller's connection.
 * Role and claims are bound parameters (`set_config('role', …)` is `SET LOCAL ROLE`); unnamed
 * statements, so it also works behind PgBouncer in transaction mode. A failed statement rolls back;
 * when the rollback fails too, its error (a broken connection) is what the caller sees and evicts.
 */
export async function runWithSettings(
  client: pg.ClientBase,
  query: pg.QueryConfig,
  settings: SessionSettings | undefined,
  begin = 'BEGIN',
): Promise<pg.QueryResult> {
  // `begin` may also set transaction-local options (behind PgBouncer's transaction mode).
  await client.query(begin);
  try {
    if (settings) {
      await client.query(
        settings.role === undefined
          ? { text: CLAIMS_SQL, values: [settings.claims ?? ''] }
          : { text: ROLE_AND_CLAIMS_SQL, values: [settings.claims ?? '', settings.role] },
      );
    }
    const result = await client.query(query);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}
