/**
 * The start-up checks over the built cubes: the join primary-key rule, a validation render
 * of every template (unknown references, measures where only number measures may use them)
 * and reference cycles.
 */
import { ModelError } from '../../errors/engine-error.js';
import { rethrowWithWhere } from '../bind-template.js';
import type { Cube } from '../model.js';
import { ValidationContext } from '../validation-context.js';
import type { BuildState, Check } from './build-state.js';
import { MEASURE_TYPES } from './member-types.js';
import { attempt } from './read-helpers.js';

/** Cube's JoinGraph rule: without a primary key, aggregates over a join cannot be de-duplicated. */
export function checkJoinPrimaryKeys(cubes: ReadonlyMap<string, Cube>, errors: ModelError[] | undefined): void {
  const needsKey = (cube: Cube) =>
    ![...cube.dimensions.values()].some((d) => d.primaryKey) && [...cube.measures.values()].some((m) => MEASURE_TYPES[m.type].additive);
  for (const cube of cubes.values()) {
    for (const join of cube.joins) {
      for (const end of [cube, cubes.get(join.to)]) {
        if (end && needsKey(end)) attempt(errors, () => {
          throw new ModelError(
            `primary key for '${end.name}' is required when join is defined in order to make aggregates work properly`,
            { file: end.fileName, member: end.name },
          );
        });
      }
    }
  }
}

/** Renders every template once, so unknown references fail now; returns the member reference graph. */
export function validationRender(state: BuildState): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  const rendered: { check: Check; refs: Iterable<string> }[] = [];
  for (const check of state.checks) {
    const ctx = new ValidationContext();
    try {
      check.template(ctx);
    } catch (cause) {
      // Code over a raw context value (unsafeValue) cannot be judged without a real context.
      if (!(cause instanceof ModelError) && ctx.usedUnsafeValue) continue;
      attempt(state.errors, () => {
        throw rethrowWithWhere(cause, check.scope);
      });
      continue;
    }
    rendered.push({ check, refs: [...ctx.memberRefs] });
  }
  const isMeasure = (ref: string) => {
    const [refCube = '', refMember = ''] = ref.split('.');
    return state.index.get(refCube)?.members.get(refMember) === 'measure';
  };
  // A `number` measure over columns only is a row expression, as Cube renders it inside `sum(…)`; it may be referenced anywhere.
  const measureRefs = new Map<string, { aggregating: boolean; refs: Iterable<string> }>();
  for (const { check, refs } of rendered) {
    if (check.owner !== undefined && check.aggregating !== undefined) measureRefs.set(check.owner, { aggregating: check.aggregating, refs });
  }
  const rowLevel = new Map<string, boolean>();
  const isRowLevel = (ref: string): boolean => {
    const known = rowLevel.get(ref);
    if (known !== undefined) return known;
    rowLevel.set(ref, false); // a cycle is not row-level (and is reported on its own)
    const m = measureRefs.get(ref);
    const result = m !== undefined && !m.aggregating && [...m.refs].every((r) => !isMeasure(r) || isRowLevel(r));
    rowLevel.set(ref, result);
    return result;
  };
  for (const { check, refs } of rendered) {
    for (const ref of refs) {
      if (!check.mayReferenceMeasures && isMeasure(ref) && !isRowLevel(ref)) {
        attempt(state.errors, () => {
          throw new ModelError(
          `references measure ${ref}, which only number measures and subQuery dimensions may do`,
          { file: check.scope.file, member: check.scope.label },
          );
        });
        continue;
      }
      if (check.owner !== undefined) {
        const edges = graph.get(check.owner) ?? new Set<string>();
        edges.add(ref);
        graph.set(check.owner, edges);
      }
    }
  }
  return graph;
}

export function checkCycles(graph: ReadonlyMap<string, ReadonlySet<string>>, cubes: ReadonlyMap<string, Cube>): void {
  const done = new Set<string>();
  const visit = (node: string, stack: string[]) => {
    if (done.has(node)) return;
    const at = stack.indexOf(node);
    if (at >= 0) {
      const [cube = ''] = node.split('.');
      throw new ModelError(`circular reference: ${[...stack.slice(at), node].join(' -> ')}`, {
        file: cubes.get(cube)?.fileName ?? '',
        member: node,
      });
    }
    for (const next of graph.get(node) ?? []) visit(next, [...stack, node]);
    done.add(node);
  };
  for (const node of graph.keys()) visit(node, []);
}

