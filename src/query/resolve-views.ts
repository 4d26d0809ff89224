/**
 * Views are named facades over cube members. Before planning, a query on view members is
 * rewritten onto the cubes behind them, so every cube's own SQL (and its security filter) applies.
 */
import { EngineError } from '../errors/engine-error.js';
import type { Model } from '../schema/model.js';
import type { FilterNode, ValidatedQuery } from '../query/validated-query.js';

export interface ResolvedQuery {
  /** The query over cube members only. */
  readonly query: ValidatedQuery;
  /** Cube-level output key → the key the caller asked for (view member keys). */
  readonly outputKeys: ReadonlyMap<string, string>;
  /** The root of the view's join path, if any. */
  readonly root: string | undefined;
}

export function resolveViews(q: ValidatedQuery, model: Model): ResolvedQuery {
  const outputKeys = new Map<string, string>();
  let root: string | undefined;
  const map = (name: string): string => {
    const parts = name.split('.');
    const view = model.cubes.get(parts[0] as string);
    if (!view || view.kind !== 'view') return name;
    const target = view.viewMembers?.get(parts[1] as string);
    if (!target) throw new EngineError('ERR_QUERY_UNKNOWN_MEMBER', `Unknown member: ${parts[0]}.${parts[1]}`);
    root ??= target.joinPath[0];
    const mapped = [target.cube, target.member, ...parts.slice(2)].join('.');
    const previous = outputKeys.get(mapped);
    if (previous !== undefined && previous !== name) {
      throw new EngineError('ERR_QUERY_INVALID', `${name} and ${previous} refer to the same member; select it once`);
    }
    outputKeys.set(mapped, name);
    return mapped;
  };
  const usesView = [...q.measures, ...q.dimensions, ...q.segments, ...q.timeDimensions.map((t) => t.dimension)].some(
    (m) => model.cubes.get(m.split('.')[0] as string)?.kind === 'view',
  );
  if (!usesView && !filtersUseView(q.filters, model)) return { query: q, outputKeys, root: undefined };
  const mapFilter = (f: FilterNode): FilterNode =>
    f.kind === 'leaf' ? { ...f, member: mapFilterMember(f.member) } : { kind: f.kind, filters: f.filters.map(mapFilter) };
  // Filter-only members must not become output keys.
  const mapFilterMember = (name: string): string => {
    const before = new Map(outputKeys);
    const mapped = map(name);
    if (!before.has(mapped)) outputKeys.delete(mapped);
    return mapped;
  };
  const query: ValidatedQuery = Object.freeze({
    ...q,
    measures: q.measures.map(map),
    dimensions: q.dimensions.map(map),
    segments: q.segments.map(map),
    timeDimensions: q.timeDimensions.map((t) => {
      const dimension = map(t.dimension);
      if (t.granularity) outputKeys.set(`${dimension}.${t.granularity}`, `${t.dimension}.${t.granularity}`);
      return { ...t, dimension };
    }),
    filters: q.filters.map(mapFilter),
    order: q.order.map(([key, dir]) => [map(key), dir] as const),
  });
  return { query, outputKeys, root };
}

function filtersUseView(nodes: readonly FilterNode[], model: Model): boolean {
  return nodes.some((n) =>
    n.kind === 'leaf' ? model.cubes.get(n.member.split('.')[0] as string)?.kind === 'view' : filtersUseView(n.filters, model),
  );
}
