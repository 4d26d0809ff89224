/**
 * Which filters apply to groups (HAVING) rather than rows, and which members they name.
 */
import type { Model } from '../schema/model.js';
import { cubeOf, nameOf, type FilterNode } from '../query/validated-query.js';

export function isMeasureFilter(f: FilterNode, model: Model): boolean {
  if (f.kind === 'leaf') {
    return f.operator !== 'measureFilter' && model.cubes.get(cubeOf(f.member))?.measures.has(nameOf(f.member)) === true;
  }
  return f.filters.some((c) => isMeasureFilter(c, model));
}

export function havingMembers(filters: readonly FilterNode[]): string[] {
  const out: string[] = [];
  const walk = (n: FilterNode) => (n.kind === 'leaf' ? out.push(n.member) : n.filters.forEach(walk));
  filters.forEach(walk);
  return out;
}
