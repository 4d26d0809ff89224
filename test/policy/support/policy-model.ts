/**
 * Small hand-built models (the Model contract is plain data) for policy tests.
 */
import type { AuthResult } from '../../../src/auth/auth-result.js';
import type { AccessPolicy, Cube, Dimension, Measure, Model, SecurityContext, Segment } from '../../../src/schema/model.js';
import type { ValidatedQuery } from '../../../src/query/validated-query.js';

const sql = () => 'x';

function common(cube: string, name: string) {
  return { name, cube, title: name, shortTitle: name, public: true };
}

export function cube(
  name: string,
  members: { measures?: string[]; dimensions?: string[]; segments?: string[] },
  accessPolicy?: AccessPolicy[],
): Cube {
  return {
    name,
    fileName: `${name}.js`,
    kind: 'cube',
    title: name,
    public: true,
    source: { kind: 'table', sql: () => `public.${name.toLowerCase()}` },
    measures: new Map(
      (members.measures ?? []).map((m): [string, Measure] => [
        m,
        { ...common(name, m), kind: 'measure', type: 'count', filters: [], drillMembers: [] },
      ]),
    ),
    dimensions: new Map(
      (members.dimensions ?? []).map((d): [string, Dimension] => [
        d,
        { ...common(name, d), kind: 'dimension', type: 'string', sql, primaryKey: false, subQuery: false },
      ]),
    ),
    segments: new Map((members.segments ?? []).map((s): [string, Segment] => [s, { ...common(name, s), kind: 'segment', sql }])),
    joins: [],
    accessPolicy,
  };
}

export function model(...cubes: Cube[]): Model {
  return { cubes: new Map(cubes.map((c) => [c.name, c])) };
}

export function policy(p: Partial<AccessPolicy> & { groups?: readonly string[] }): AccessPolicy {
  return { groups: ['*'], conditions: [], ...p };
}

/** Row filters written as Cube users write them: a function of the security context. */
export const rowFilters = (fn: (ctx: SecurityContext) => readonly unknown[]): AccessPolicy['rowLevel'] => ({ filters: fn });

export function authWith(rawContext: SecurityContext): AuthResult {
  return { via: 'jwt', rawContext, securityContext: rawContext, scopes: ['query', 'meta'] };
}

export function query(parts: Partial<ValidatedQuery>): ValidatedQuery {
  return {
    measures: [],
    dimensions: [],
    segments: [],
    timeDimensions: [],
    filters: [],
    order: [],
    limit: 10_000,
    offset: 0,
    timezone: 'UTC',
    total: false,
    ungrouped: false,
    responseFormat: 'default',
    ...parts,
  };
}
