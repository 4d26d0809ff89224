/**
 * Everything a Model means, as plain data: every template rendered (with the recording context),
 * every flag, reference and descriptive key. Two models that snapshot equal compile to the same SQL.
 * File names and the version are left out: twins live in different files.
 */
import type { Cube, Dimension, Measure, Model, SecurityContext, Segment, SqlTemplate } from '../../src/schema/model.js';
import { recordingContext } from './recording-context.js';

export function snapshotModel(model: Model, securityContext: SecurityContext = { id: 42, tenant_id: 3, u: { id: 42 } }): unknown {
  const { ctx, params } = recordingContext(securityContext, {
    filterParam: (cube, member, column) => `<filter ${cube}.${member} on ${typeof column === 'string' ? column : column('$a', '$b')}>`,
  });
  const sql = (t: SqlTemplate | undefined) => (t === undefined ? undefined : t(ctx));
  const common = (m: Measure | Dimension | Segment) => ({
    kind: m.kind,
    title: m.title,
    shortTitle: m.shortTitle,
    description: m.description,
    format: m.format,
    meta: m.meta,
    public: m.public,
  });
  const member = (m: Measure | Dimension | Segment) => {
    if (m.kind === 'measure') {
      return { ...common(m), type: m.type, sql: sql(m.sql), filters: m.filters.map(sql), drillMembers: m.drillMembers, rollingWindow: m.rollingWindow, aggType: m.aggType };
    }
    if (m.kind === 'dimension') {
      return {
        ...common(m),
        type: m.type,
        sql: sql(m.sql),
        primaryKey: m.primaryKey,
        subQuery: m.subQuery,
        granularities: m.granularities ? Object.fromEntries(m.granularities) : undefined,
      };
    }
    return { ...common(m), sql: sql(m.sql) };
  };
  const cube = (c: Cube) => ({
    kind: c.kind,
    title: c.title,
    description: c.description,
    public: c.public,
    source: c.kind === 'cube' ? { kind: c.source.kind, sql: sql(c.source.sql) } : undefined,
    measures: Object.fromEntries([...c.measures].map(([n, m]) => [n, member(m)])),
    dimensions: Object.fromEntries([...c.dimensions].map(([n, m]) => [n, member(m)])),
    segments: Object.fromEntries([...c.segments].map(([n, m]) => [n, member(m)])),
    joins: c.joins.map((j) => ({ ...j, sql: sql(j.sql) })),
    viewMembers: c.viewMembers ? Object.fromEntries(c.viewMembers) : undefined,
    meta: c.meta,
    refreshKey: c.refreshKey ? { ...c.refreshKey, sql: sql(c.refreshKey.sql) } : undefined,
    dataSource: c.dataSource,
    hierarchies: c.hierarchies,
    folders: c.folders,
    preAggregations: c.preAggregations,
    accessPolicy: c.accessPolicy?.map((p) => ({
      groups: p.groups,
      conditions: p.conditions.map((f) => f(securityContext)),
      memberLevel: p.memberLevel,
      rowLevel: p.rowLevel && 'filters' in p.rowLevel ? p.rowLevel.filters(securityContext) : p.rowLevel,
    })),
  });
  const cubes = Object.fromEntries([...model.cubes].sort(([a], [b]) => a.localeCompare(b)).map(([n, c]) => [n, cube(c)]));
  return JSON.parse(JSON.stringify({ cubes, params }));
}
