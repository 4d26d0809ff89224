/**
 * Fan-out safe aggregation, as Cube's keys subquery: each multiplied cube's measures are
 * aggregated over its distinct primary keys per dimension tuple, then joined on the dimensions.
 */
import { EngineError } from '../errors/engine-error.js';
import type { DimensionType } from '../schema/model.js';
import { havingMembers } from './filter-members.js';
import { cubeOf, nameOf } from './renderer.js';
import { dimExpr, whereParts, type SelectInput } from './select-parts.js';
import { quoteIdentifier } from './sql-text.js';

/** A literal of each dimension type for COALESCE; its NULL flag is compared too, so it may equal a real value. */
const MERGE_SENTINEL: Readonly<Record<DimensionType, string>> = { string: "''", number: "'0'", boolean: "'false'", time: "'-infinity'" };

/**
 * NULL-safe equality of one dimension between two keyed subqueries, written as two plain
 * equalities so PostgreSQL can hash-join them (`IS NOT DISTINCT FROM` only nested-loops).
 */
function mergeKeyEquals(left: string, right: string, d: SelectInput['shape']['dims'][number], model: SelectInput['model']): string {
  const type = d.granularity ? 'time' : (model.cubes.get(cubeOf(d.member))?.dimensions.get(nameOf(d.member))?.type ?? 'string');
  const l = `${left}.${quoteIdentifier(d.alias)}`;
  const r = `${right}.${quoteIdentifier(d.alias)}`;
  const sentinel = MERGE_SENTINEL[type];
  return `COALESCE(${l}, ${sentinel}) = COALESCE(${r}, ${sentinel}) AND (${l} IS NULL) = (${r} IS NULL)`;
}

export function keyedSelect(input: SelectInput, keyed: readonly string[]): string {
  const { r, q, model, plan, shape, whereFilters, havingFilters } = input;
  const wanted = [...new Set([...q.measures, ...havingMembers(havingFilters).filter((m) => model.cubes.get(cubeOf(m))?.measures.has(nameOf(m)))])];
  const measureAlias = new Map<string, string>();
  shape.measures.forEach((m) => measureAlias.set(m.member, m.alias));
  wanted.forEach((m, i) => {
    if (!measureAlias.has(m)) measureAlias.set(m, `__filter_${i}`);
  });
  const subqueries: { sql: string; measures: string[] }[] = [];

  const regular = wanted.filter((m) => !keyed.includes(cubeOf(m)));
  if (regular.length > 0) {
    const select = [
      ...shape.dims.map((d) => `${dimExpr(r, d, model)} AS ${quoteIdentifier(d.alias)}`),
      ...regular.map((m) => `${r.memberSql(cubeOf(m), nameOf(m), plan.multiplied.includes(cubeOf(m)) ? 'distinct-safe' : 'aggregate')} AS ${quoteIdentifier(measureAlias.get(m) as string)}`),
    ];
    const where = whereParts(r, q, whereFilters);
    let sql = `SELECT ${select.join(', ')} FROM ${r.from(plan)}`;
    if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
    if (shape.dims.length > 0) sql += ` GROUP BY ${shape.dims.map((_d, i) => i + 1).join(', ')}`;
    subqueries.push({ sql, measures: regular });
  }

  for (const cube of keyed) {
    const pk = r.primaryKeySql(cube);
    if (!pk) {
      throw new EngineError('ERR_PLAN_UNSUPPORTED', `Cube ${cube} needs a primary key to aggregate measures across a one-to-many join`);
    }
    const pkAlias = '__pk';
    const keysSelect = [...shape.dims.map((d) => `${dimExpr(r, d, model)} AS ${quoteIdentifier(d.alias)}`), `${pk} AS ${quoteIdentifier(pkAlias)}`];
    const where = whereParts(r, q, whereFilters);
    let keys = `SELECT DISTINCT ${keysSelect.join(', ')} FROM ${r.from(plan)}`;
    if (where.length > 0) keys += ` WHERE ${where.join(' AND ')}`;
    const mine = wanted.filter((m) => cubeOf(m) === cube);
    const select = [
      ...shape.dims.map((d) => `"keys".${quoteIdentifier(d.alias)} AS ${quoteIdentifier(d.alias)}`),
      ...mine.map((m) => `${r.memberSql(cube, nameOf(m), 'aggregate')} AS ${quoteIdentifier(measureAlias.get(m) as string)}`),
    ];
    let sql = `SELECT ${select.join(', ')} FROM (${keys}) AS "keys" LEFT JOIN ${r.source(cube)} ON "keys".${quoteIdentifier(pkAlias)} = ${pk}`;
    if (shape.dims.length > 0) sql += ` GROUP BY ${shape.dims.map((_d, i) => i + 1).join(', ')}`;
    subqueries.push({ sql, measures: mine });
  }

  const names = subqueries.map((_s, i) => quoteIdentifier(`q_${i}`));
  const from = subqueries
    .map((s, i) => {
      if (i === 0) return `(${s.sql}) AS ${names[0]}`;
      const on = shape.dims.length > 0 ? shape.dims.map((d) => mergeKeyEquals(names[0] as string, names[i] as string, d, model)).join(' AND ') : '1 = 1';
      return `INNER JOIN (${s.sql}) AS ${names[i]} ON ${on}`;
    })
    .join('\n');
  const owner = (m: string) => names[subqueries.findIndex((s) => s.measures.includes(m))] as string;
  const outer = [
    ...shape.dims.map((d) => `${names[0]}.${quoteIdentifier(d.alias)} AS ${quoteIdentifier(d.alias)}`),
    ...shape.measures.map((m) => `${owner(m.member)}.${quoteIdentifier(m.alias)} AS ${quoteIdentifier(m.alias)}`),
  ];
  let sql = `SELECT\n  ${outer.join(',\n  ')}\nFROM ${from}`;
  if (havingFilters.length > 0) {
    const having = havingFilters.map((f) => r.filterSql(f, (leaf) => `${owner(leaf.member)}.${quoteIdentifier(measureAlias.get(leaf.member) as string)}`));
    sql += `\nWHERE ${having.join(' AND ')}`;
  }
  return sql;
}
