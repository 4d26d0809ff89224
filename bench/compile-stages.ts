/**
 * The compile stages as three callables over one query, so the benchmark times each alone.
 * Each stage's input is computed once, ahead of timing.
 */
import type { Model, SecurityContext } from '../src/schema/model.js';
import type { WireQuery } from '../src/query/wire-query.js';
import { validateQuery } from '../src/query/validate-query.js';
import { resolveViews } from '../src/query/resolve-views.js';
import { buildPlan } from '../src/plan/build-plan.js';
import { compileQuery } from '../src/render/compile-query.js';

const OPTS = { defaultLimit: 10_000, maxLimit: 50_000, defaultTimezone: 'UTC' };

export function compileStages(model: Model, wire: WireQuery, context: SecurityContext) {
  const resolve = () => resolveViews(validateQuery(wire, model, OPTS), model);
  const resolved = resolve();
  const plan = () => buildPlan(model, resolved.query, { root: resolved.root });
  const planned = plan();
  const render = () => compileQuery(model, resolved.query, planned, context);
  return { resolve, plan, render, all: () => compileQuery(model, resolve().query, plan(), context) };
}
