/** `tessera rls sql`: prints a row-level security SQL draft for the model, to review by hand. */
import pg from 'pg';
import { loadModel } from '../../schema/load-model.js';
import { modelSources } from '../../db/rls/model-tables.js';
import { rlsSqlDraft } from '../../db/rls/rls-sql-draft.js';
import { defineCommand, UsageError, writeOut } from '../cli-command.js';
import { loadCliConfig } from '../open-database.js';

export const RLS_HELP = `Usage: tessera rls sql [options]

Prints a SQL draft for PostgreSQL row-level security under the model: it creates
the query role, grants SELECT on the tables the model reads, enables RLS on them
and writes a policy per cube whose security filter is a plain equality on a claim
(for example tenant_id = SECURITY_CONTEXT.tenant_id). Nothing is run: review it.
With DATABASE_URL set, column types are read from the database for the casts.

Options:
      --role <name>    The query role (default: TESSERA_DB_RLS_ROLE or tessera_query).
      --claim <path>   A claim the model's filters use (tenant_id, u.id); repeatable.
                       Claims the model names literally are found without it.
  -m, --model <dir>    Model folder (default: CUBEJS_SCHEMA_PATH or ./schema).
  -h, --help           Show this help.`;

export const rlsCommand = defineCommand(
  'rls',
  RLS_HELP,
  { role: { type: 'string' }, claim: { type: 'string', multiple: true }, model: { type: 'string', short: 'm' } },
  async (values, positionals) => {
    if (positionals.length !== 1 || positionals[0] !== 'sql') throw new UsageError('the only subcommand is "rls sql"');
    const config = await loadCliConfig(typeof values.model === 'string' ? { CUBEJS_SCHEMA_PATH: values.model } : {});
    const role = typeof values.role === 'string' ? values.role : (config.database.rlsRole ?? 'tessera_query');
    if (!/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(role)) throw new UsageError('--role must be a role name of letters, digits and underscores');
    const claims = Array.isArray(values.claim) ? values.claim : [];
    const model = await loadModel(config.schemaPath);
    const columnTypes = config.database.url ? await readColumnTypes(config.database.url, [...new Set(modelSources(model, claims).flatMap((s) => s.tables))]) : undefined;
    writeOut(rlsSqlDraft(model, { role, claims, ...(columnTypes ? { columnTypes } : {}) }));
    return 0;
  },
  true,
);

/** `table.column` → type, for the tables that exist; an unreachable database just means no casts. */
async function readColumnTypes(url: string, tables: readonly string[]): Promise<Map<string, string> | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ rel: string; att: string; type: string }>(
      `select c.relname as rel, a.attname as att, format_type(a.atttypid, a.atttypmod) as type
         from unnest($1::text[]) t(name)
         join pg_class c on c.oid = to_regclass(t.name)
         join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped`,
      [tables],
    );
    return new Map(rows.map((r) => [`${r.rel}.${r.att}`, r.type]));
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}
