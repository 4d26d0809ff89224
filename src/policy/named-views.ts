/**
 * The views a request's own queries name, read off the raw query, so the policy stage can apply
 * a view's access policy even where the planner hands it only the resolved cube query.
 */
import type { Model } from '../schema/model.js';

/** View names among every member reference of `raw` (a query object or a blending array); never throws. */
export function namedViews(raw: unknown, model: Model): readonly string[] {
  const views = new Set<string>();
  const note = (name: unknown) => {
    if (typeof name !== 'string') return;
    const owner = name.split('.')[0] ?? '';
    if (model.cubes.get(owner)?.kind === 'view') views.add(owner);
  };
  const walkFilters = (filters: unknown): void => {
    if (!Array.isArray(filters)) return;
    for (const f of filters as unknown[]) {
      if (f === null || typeof f !== 'object') continue;
      const node = f as Record<string, unknown>;
      note(node.member);
      note(node.dimension);
      walkFilters(node.and);
      walkFilters(node.or);
    }
  };
  const walkQuery = (q: unknown): void => {
    if (q === null || typeof q !== 'object' || Array.isArray(q)) return;
    const query = q as Record<string, unknown>;
    for (const key of ['measures', 'dimensions', 'segments'] as const) {
      if (Array.isArray(query[key])) (query[key] as unknown[]).forEach(note);
    }
    if (Array.isArray(query.timeDimensions)) {
      for (const td of query.timeDimensions as unknown[]) note((td as { dimension?: unknown } | null)?.dimension);
    }
    walkFilters(query.filters);
    const order = query.order;
    if (Array.isArray(order)) for (const entry of order as unknown[]) note(Array.isArray(entry) ? entry[0] : undefined);
    else if (order !== null && typeof order === 'object') Object.keys(order).forEach(note);
  };
  let decoded: unknown = raw;
  if (typeof raw === 'string') {
    try {
      decoded = JSON.parse(raw) as unknown;
    } catch {
      return [];
    }
  }
  if (Array.isArray(decoded)) decoded.forEach(walkQuery);
  else walkQuery(decoded);
  return [...views];
}
