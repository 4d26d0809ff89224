/**
 * Pieces shared by the SELECT strategies (plain, keyed for fan-out, rolling windows).
 */
import type { Model } from '../schema/model.js';
import type { FilterNode, Granularity, ValidatedQuery } from '../query/validated-query.js';
import type { Plan } from './join-tree.js';
import { cubeOf, nameOf, type Renderer } from './renderer.js';
import { snakeCase } from './sql-text.js';

/** What every SELECT strategy receives. */
export interface SelectInput {
  readonly r: Renderer;
  readonly q: ValidatedQuery;
  readonly model: Model;
  readonly plan: Plan;
  readonly shape: Shape;
  /** Filters on rows (WHERE). */
  readonly whereFilters: readonly FilterNode[];
  /** Filters on measures (HAVING). */
  readonly havingFilters: readonly FilterNode[];
}

export interface Shape {
  readonly dims: readonly { readonly key: string; readonly member: string; readonly granularity?: Granularity; readonly alias: string }[];
  readonly measures: readonly { readonly member: string; readonly alias: string }[];
}

export function outputShape(q: ValidatedQuery): Shape {
  const used = new Set<string>();
  const unique = (base: string): string => {
    let a = base.slice(0, 60);
    for (let i = 2; used.has(a); i++) a = `${base.slice(0, 56)}_${i}`;
    used.add(a);
    return a;
  };
  const aliasOf = (member: string, suffix = '') => unique(`${snakeCase(cubeOf(member))}__${snakeCase(nameOf(member))}${suffix}`);
  const dims: Shape['dims'][number][] = q.dimensions.map((d) => ({ key: d, member: d, alias: aliasOf(d) }));
  for (const td of q.timeDimensions) {
    if (!td.granularity) continue;
    dims.push({ key: `${td.dimension}.${td.granularity}`, member: td.dimension, granularity: td.granularity, alias: aliasOf(td.dimension, `_${td.granularity}`) });
  }
  const measures = q.measures.map((m) => ({ member: m, alias: aliasOf(m) }));
  return { dims, measures };
}

export function whereParts(r: Renderer, q: ValidatedQuery, dimensionFilters: readonly FilterNode[]): string[] {
  const parts: string[] = [];
  for (const s of q.segments) {
    const seg = r.cube(cubeOf(s)).segments.get(nameOf(s));
    if (seg) parts.push(`(${r.renderOwn(seg.cube, seg.sql)})`);
  }
  for (const td of q.timeDimensions) {
    if (!td.dateRange) continue;
    parts.push(r.filterSql({ kind: 'leaf', member: td.dimension, operator: 'inDateRange', values: td.dateRange }));
  }
  for (const f of dimensionFilters) parts.push(r.filterSql(f));
  return parts;
}

export function dimExpr(r: Renderer, d: Shape['dims'][number], model: Model): string {
  const dim = model.cubes.get(cubeOf(d.member))?.dimensions.get(nameOf(d.member));
  if (d.granularity || dim?.type === 'time') return r.timeExpr(d.member, d.granularity);
  return r.memberSql(cubeOf(d.member), nameOf(d.member), 'aggregate');
}

