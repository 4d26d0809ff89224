/**
 * Start-up checks for row-level security: the query role exists, cannot bypass
 * RLS, owns none of the tables the model reads, and every such table has RLS
 * enabled with at least one policy. Each problem is one line naming the role or table.
 */
import type { Knex } from 'knex';
import type { Model } from '../../schema/model.js';
import { modelSources } from './model-tables.js';

export interface RlsProblem {
  /** `role tessera_query` or `table public.orders`. */
  readonly subject: string;
  /** One sentence, naming the subject. */
  readonly message: string;
}

interface TableRow {
  name: string;
  oid: number;
  relkind: string;
  rls: boolean;
  policies: number;
  owned: boolean;
  can_select: boolean;
}

/** Resolves model table names in the database, so `orders` and `public.orders` are one table. */
export async function resolveModelTables(knex: Knex, model: Model): Promise<{ name: string; oid: number }[]> {
  const names = [...new Set(modelSources(model).flatMap((s) => s.tables))];
  if (names.length === 0) return [];
  const { rows } = await knex.raw<{ rows: { name: string; oid: number }[] }>(
    `select distinct on (r.oid) format('%I.%I', n.nspname, c.relname) as name, r.oid::int as oid
       from unnest(?::text[]) as t(name)
       cross join lateral (select to_regclass(t.name) as oid) r
       join pg_class c on c.oid = r.oid
       join pg_namespace n on n.oid = c.relnamespace
      where r.oid is not null`,
    [names],
  );
  return rows;
}

export async function checkRowLevelSecurity(knex: Knex, model: Model, role: string): Promise<RlsProblem[]> {
  const problems: RlsProblem[] = [];
  const roleSubject = `role ${role}`;
  const { rows: roles } = await knex.raw<{ rows: { rolsuper: boolean; rolbypassrls: boolean; can_switch: boolean }[] }>(
    `select rolsuper, rolbypassrls, pg_has_role(current_user, oid, 'MEMBER') as can_switch from pg_roles where rolname = ?`,
    [role],
  );
  const found = roles[0];
  if (!found) {
    return [{ subject: roleSubject, message: `the row-level security role ${role} does not exist (see: tessera rls sql)` }];
  }
  if (found.rolsuper) problems.push({ subject: roleSubject, message: `the row-level security role ${role} is a superuser, which bypasses row-level security` });
  if (found.rolbypassrls) problems.push({ subject: roleSubject, message: `the row-level security role ${role} has BYPASSRLS` });
  if (!found.can_switch) problems.push({ subject: roleSubject, message: `the database user cannot SET ROLE ${role} (GRANT ${role} TO the user in DATABASE_URL)` });

  const tables = await resolveModelTables(knex, model);
  if (tables.length === 0) return problems;
  const { rows } = await knex.raw<{ rows: TableRow[] }>(
    `select format('%I.%I', n.nspname, c.relname) as name, c.oid::int as oid, c.relkind, c.relrowsecurity as rls,
            (select count(*) from pg_policy p where p.polrelid = c.oid)::int as policies,
            pg_has_role(?, c.relowner, 'USAGE') as owned,
            has_table_privilege(?, c.oid, 'SELECT') as can_select
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.oid = any(?::oid[])
      order by 1`,
    [role, role, tables.map((t) => t.oid)],
  );
  for (const t of rows) {
    const subject = `table ${t.name}`;
    if (t.relkind !== 'r' && t.relkind !== 'p') {
      problems.push({ subject, message: `${t.name} is not a table, so row-level security cannot protect it; point the model at tables` });
      continue;
    }
    if (t.owned) problems.push({ subject, message: `table ${t.name} is owned by ${role} (or a role it inherits), and owners bypass row-level security` });
    if (!t.rls) problems.push({ subject, message: `table ${t.name} does not have row-level security enabled` });
    else if (t.policies === 0) problems.push({ subject, message: `table ${t.name} has row-level security enabled but no policy` });
    if (!t.can_select) problems.push({ subject, message: `role ${role} has no SELECT privilege on table ${t.name}` });
  }
  return problems;
}
