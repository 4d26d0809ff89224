/**
 * The join tree: for a set of cubes, the directed tree with the fewest joins (as in Cube),
 * and which cubes that tree multiplies (`hasMany` away from a cube, or `belongsTo` into it).
 */
import { EngineError } from '../errors/engine-error.js';
import type { Join, Model } from '../schema/model.js';

export interface Plan {
  readonly root: string;
  /** Joins in an order where each `from` is already in the tree. */
  readonly joins: readonly Join[];
  readonly cubes: readonly string[];
  /** Cubes whose rows the join tree repeats; their measures need the keys rewrite. */
  readonly multiplied: readonly string[];
  /** Every cube whose rows the query reads: the tree's cubes and those inside subQuery dimensions. */
  readonly read: readonly string[];
}

/** Shortest directed paths from `root` (BFS: every join weighs 1). */
function shortestPaths(model: Model, root: string): Map<string, readonly Join[]> {
  const paths = new Map<string, readonly Join[]>([[root, []]]);
  const queue = [root];
  while (queue.length > 0) {
    const at = queue.shift() as string;
    const here = paths.get(at) ?? [];
    for (const join of model.cubes.get(at)?.joins ?? []) {
      if (paths.has(join.to) || !model.cubes.has(join.to)) continue;
      paths.set(join.to, [...here, join]);
      queue.push(join.to);
    }
  }
  return paths;
}

function treeFor(model: Model, root: string, cubes: readonly string[]): Join[] | undefined {
  const paths = shortestPaths(model, root);
  const tree: Join[] = [];
  const seen = new Set<string>();
  for (const c of cubes) {
    const path = paths.get(c);
    if (!path) return undefined;
    for (const j of path) {
      const key = `${j.from}->${j.to}`;
      if (!seen.has(key)) {
        seen.add(key);
        tree.push(j);
      }
    }
  }
  return tree;
}

/** Does the tree repeat rows of `cube`? True when some join, walked away from it, fans out. */
function isMultiplied(cube: string, joins: readonly Join[]): boolean {
  const visited = new Set([cube]);
  const stack = [cube];
  while (stack.length > 0) {
    const at = stack.pop() as string;
    for (const j of joins) {
      const away = j.from === at ? j.to : j.to === at ? j.from : undefined;
      if (away === undefined || visited.has(away)) continue;
      const fansOut = (j.from === at && j.relationship === 'hasMany') || (j.to === at && j.relationship === 'belongsTo');
      if (fansOut) return true;
      visited.add(away);
      stack.push(away);
    }
  }
  return false;
}

export interface PlanOptions {
  /** A root to prefer when it reaches every cube (a view's join path starts there). */
  readonly root?: string | undefined;
}

/** Plans the join tree for a set of cubes. */
export function planForCubes(model: Model, cubes: readonly string[], opts: PlanOptions = {}): Plan {
  if (cubes.length === 0) throw new EngineError('ERR_QUERY_INVALID', 'The query selects nothing');
  let best: { root: string; joins: Join[] } | undefined;
  const preferred = opts.root !== undefined ? treeFor(model, opts.root, cubes) : undefined;
  if (opts.root !== undefined && preferred) best = { root: opts.root, joins: preferred };
  for (const root of best ? [] : cubes) {
    const joins = treeFor(model, root, cubes);
    if (joins && (!best || joins.length < best.joins.length)) best = { root, joins };
  }
  if (!best) {
    throw new EngineError('ERR_PLAN_NO_JOIN_PATH', `Can't find join path to join ${cubes.map((c) => `'${c}'`).join(', ')}`);
  }
  const tree = best;
  const treeCubes = [tree.root, ...tree.joins.map((j) => j.to)];
  const multiplied = treeCubes.filter((c) => isMultiplied(c, tree.joins));
  return Object.freeze({
    root: tree.root,
    joins: Object.freeze(tree.joins),
    cubes: Object.freeze(treeCubes),
    multiplied: Object.freeze(multiplied),
    read: Object.freeze(treeCubes),
  });
}

