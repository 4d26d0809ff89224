/**
 * `tessera rls sql`: a SQL draft for a human to review, never run by Tessera.
 * It creates the query role, grants SELECT on the tables the model reads,
 * enables RLS on them and writes one policy per cube whose security filter is
 * a plain equality on a claim.
 */
import type { Model } from '../../schema/model.js';
import { quoteIdentifier } from '../../render/dialects/postgres.js';
import { modelSources } from './model-tables.js';

/** Column types by `table.column` as the database reports them (`integer`, `text`), when a database is at hand. */
export type ColumnTypes = ReadonlyMap<string, string>;

/** SQL string literal for a claim name or path (claims come from the model, but quoting keeps any name safe). */
const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** `(current_setting('request.jwt.claims', true)::json #>> '{u,id}')::integer` */
function claimExpression(claim: string, type: string | undefined): string {
  const parts = claim.split('.');
  const read =
    parts.length === 1
      ? `current_setting('request.jwt.claims', true)::json ->> ${literal(claim)}`
      : `current_setting('request.jwt.claims', true)::json #>> ${literal(`{${parts.map((p) => p.replace(/[{},"\\]/g, '')).join(',')}}`)}`;
  return type && !/^(text|character varying|varchar)/.test(type) ? `(${read})::${type}` : `(${read})`;
}

const quoteQualified = (name: string): string =>
  name
    .split('.')
    .map((p) => (p.startsWith('"') ? p : quoteIdentifier(p)))
    .join('.');

const policyName = (cube: string, table: string): string =>
  `tessera_${cube}_${table.split('.').pop() ?? table}`.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 63);

export function rlsSqlDraft(model: Model, opts: { role: string; claims?: readonly string[]; columnTypes?: ColumnTypes }): string {
  const role = quoteIdentifier(opts.role);
  const sources = modelSources(model, opts.claims ?? []);
  const tables = [...new Set(sources.flatMap((s) => s.tables))].sort();
  const schemas = [...new Set(tables.filter((t) => t.includes('.')).map((t) => t.split('.')[0] as string))].sort();
  const lines = [
    '-- Row-level security draft written by `tessera rls sql`.',
    '-- REVIEW EVERY LINE before running it: Tessera cannot see every rule your data needs.',
    '-- Then start Tessera with TESSERA_DB_RLS=on' + (opts.role === 'tessera_query' ? '.' : ` TESSERA_DB_RLS_ROLE=${opts.role}.`),
    '',
    `CREATE ROLE ${role} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;`,
    '-- The user in DATABASE_URL switches to the role for every query:',
    `GRANT ${role} TO CURRENT_USER;`,
  ];
  for (const schema of schemas) lines.push(`GRANT USAGE ON SCHEMA ${quoteQualified(schema)} TO ${role};`);
  for (const table of tables) {
    lines.push('', `GRANT SELECT ON ${quoteQualified(table)} TO ${role};`, `ALTER TABLE ${quoteQualified(table)} ENABLE ROW LEVEL SECURITY;`);
    for (const source of sources.filter((s) => s.tables.includes(table))) {
      const equalities = source.tables.length === 1 ? source.claimEqualities : [];
      if (equalities.length === 0) {
        lines.push(`-- Cube ${source.cube}: no plain equality on a claim was found; write its policy by hand (without one, ${role} reads no rows).`);
        continue;
      }
      const bareTable = table.split('.').pop() ?? table;
      const conditions = equalities.map(
        (e) => `${quoteIdentifier(e.column)} = ${claimExpression(e.claim, opts.columnTypes?.get(`${bareTable.replace(/"/g, '')}.${e.column}`))}`,
      );
      lines.push(
        `-- Cube ${source.cube}: ${equalities.map((e) => `${e.column} = claim ${e.claim}`).join(', ')}.`,
        `CREATE POLICY ${quoteIdentifier(policyName(source.cube, table))} ON ${quoteQualified(table)} FOR SELECT TO ${role}`,
        `  USING (${conditions.join('\n     AND ')});`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
