/**
 * Fan-out safe aggregation, as Cube's keys subquery: each multiplied cube's measures are
 * aggregated over its distinct primary keys per dimension tuple, then joined on the dimensions.
 */
import { EngineError } from '../errors/engine-error.js';
import { havingMembers } from './filter-members.js';
import { cubeOf, nameOf } from './renderer.js';
import { dimExpr, whereParts, type SelectInput } from './select-parts.js';
import { quoteIdentifier } from './sql-text.js';

export function keyedSelect(input: SelectInput, keyed: readonly string[]): string {
  const { r, q, model, plan, shape, whereFilters, havingFilters } = input;
  const wanted = [...new Set([...q.measures, ...havingMembers(havingFilters).filter((m) => model.cubes.get(cubeOf(m))?.measures.has(nameOf(m)))])];
  const measureAlias = new Map<string, string>();
  shape.measures.forEach((m) => measureAlias.set(m.member, m.alias));
  wanted.forEach((m, i) => {
    if (!measureAlias.has(m)) measureAlias.set(m, `__filter_${i}`);
  });
  const dimList = shape.dims.map((d) => quoteIdentifier(d.alias));
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
      const on = dimList.length > 0 ? dimList.map((d) => `${names[0]}.${d} IS NOT DISTINCT FROM ${names[i]}.${d}`).join(' AND ') : '1 = 1';
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
