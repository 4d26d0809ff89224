/**
 * Evaluated definitions → the readonly Model: key normalisation (camelCase and snake_case),
 * `extends`, members, joins, views, access policies, then the start-up checks (a validation
 * render of every template, reference cycles, the join primary-key rule).
 */
import { ModelError } from '../errors/engine-error.js';
import { buildPolicy } from './build/access-policy.js';
import type { BuildState, Sourced } from './build/build-state.js';
import { checkCycles, checkJoinPrimaryKeys, validationRender } from './build/checks.js';
import { attempt, fileOf } from './build/read-helpers.js';
import {
  bindSqlTemplate,
  setCompileContext,
  type IndexedCube,
  type MemberKind,
  type ModelIndex,
  type TemplateScope,
} from './bind-template.js';
import { isPlainObject, type RawDefinition } from './evaluate-model-file.js';
import type { CompileContext } from './load/compile-context.js';
import type { Cube, Model } from './model.js';
import { cubeHead, ownDefinition, resolveExtends, type Definition } from './build/definitions.js';
import { buildDimension, buildJoin, buildMeasure, buildSegment } from './build/members.js';
import { buildView } from './build/views.js';
import { readDataSource, readFolders, readHierarchies, readPreAggregations, readRefreshKey } from './build/cube-extras.js';

// ---------------------------------------------------------------- cubes

function buildCube(state: BuildState, def: Definition): Cube {
  const where = { file: def.fileName, member: def.name };
  const head = cubeHead(def);
  const { sql, sqlTable } = def.props;
  if ((sql === undefined) === (sqlTable === undefined)) {
    throw new ModelError('You must use either sql or sqlTable within a model, but not both', where);
  }
  const sourceRaw = sql ?? sqlTable;
  const scope: TemplateScope = { index: state.index, cube: def.name, file: fileOf(sourceRaw, def.fileName), label: `${def.name}.${sql !== undefined ? 'sql' : 'sqlTable'}` };
  const sourceSql = bindSqlTemplate(sourceRaw, scope);
  state.checks.push({ scope, template: sourceSql, mayReferenceMeasures: false });
  (state.index.get(def.name) as IndexedCube).source = sourceSql;
  (state.index.get(def.name) as IndexedCube).sourceIsTable = sqlTable !== undefined;

  // Each member on its own, so that `tessera validate` reports every broken member.
  const each = <T,>(entries: ReadonlyMap<string, Sourced>, build: (name: string, src: Sourced) => T): [string, T][] =>
    [...entries].flatMap(([n, src]) => {
      const member = attempt(state.errors, () => build(n, src));
      return member === undefined ? [] : [[n, member] as [string, T]];
    });
  const measures = new Map(each(def.measures, (n, src) => buildMeasure(state, head, n, src)));
  const dimensions = new Map(each(def.dimensions, (n, src) => buildDimension(state, head, n, src)));
  const segments = new Map(each(def.segments, (n, src) => buildSegment(state, head, n, src)));
  const joins = each(def.joins, (target, src) => buildJoin(state, head, target, src)).map(([, j]) => j);
  return {
    name: def.name,
    fileName: def.fileName,
    kind: 'cube',
    title: head.title,
    description: head.description,
    public: head.public,
    source: Object.freeze(sql !== undefined ? { kind: 'sql' as const, sql: sourceSql } : { kind: 'table' as const, sql: sourceSql }),
    measures,
    dimensions,
    segments,
    joins: Object.freeze(joins),
    meta: head.meta,
    // Descriptive keys one by one: a bad hierarchy must not hide the cube's other errors.
    refreshKey: attempt(state.errors, () =>
      readRefreshKey(state, def.props.refreshKey, { ...scope, file: fileOf(def.props.refreshKey, def.fileName), label: `${def.name}.refreshKey` }, where),
    ),
    dataSource: attempt(state.errors, () => readDataSource(def.props.dataSource, where)),
    hierarchies: attempt(state.errors, () => readHierarchies(state, def.props.hierarchies, def.name, def.fileName, where)),
    folders: attempt(state.errors, () => readFolders(def.props.folders, new Set([...measures.keys(), ...dimensions.keys(), ...segments.keys()]), where)),
    preAggregations: attempt(state.errors, () =>
      readPreAggregations(state, def.props.preAggregations, def.name, fileOf(def.props.preAggregations, def.fileName), where),
    ),
  };
}

// ---------------------------------------------------------------- entry point

/** Builds the Model from evaluated definitions (in load order). */
export interface BuildOptions {
  readonly compileContext?: CompileContext;
  /** The digest of the model files. */
  readonly version?: string;
  /** When given, errors are collected here and building goes on as far as it can. */
  readonly errors?: ModelError[];
}

export function buildModel(definitions: readonly RawDefinition[], options: BuildOptions = {}): Model {
  const { errors } = options;
  const own = new Map<string, Definition>();
  const index: ModelIndex = new Map();
  if (options.compileContext) setCompileContext(index, options.compileContext);
  for (const raw of definitions) {
    attempt(errors, () => {
      const previous = own.get(raw.name);
      if (previous) {
        throw new ModelError(`${raw.kind} ${raw.name} is already defined in ${previous.fileName}`, { file: raw.fileName, member: raw.name });
      }
      index.set(raw.name, { kind: raw.kind, members: new Map() });
      own.set(raw.name, ownDefinition(raw));
    });
  }
  const defs = resolveExtends(own, index, errors);

  for (const def of defs.values()) {
    if (def.kind !== 'cube') continue;
    const members = new Map<string, MemberKind>();
    const kinds = [['measure', def.measures], ['dimension', def.dimensions], ['segment', def.segments]] as const;
    for (const [kind, map] of kinds) {
      for (const [name, src] of map) {
        attempt(errors, () => {
          if (members.has(name)) throw new ModelError(`${name} defined more than once`, { file: src.file, member: `${def.name}.${name}` });
          members.set(name, kind);
        });
      }
    }
    index.set(def.name, { kind: 'cube', members, timeGranularities: timeGranularitiesOf(def.dimensions) });
  }

  const state: BuildState = { index, checks: [], explicitlyHidden: new Set(), explicitTitles: new Map(), errors };
  const built = new Map<string, Cube>();
  for (const def of defs.values()) {
    if (def.kind !== 'cube') continue;
    const cube = attempt(errors, () => buildCube(state, def));
    if (cube) built.set(def.name, cube);
  }
  for (const def of defs.values()) {
    if (def.kind !== 'view') continue;
    const view = attempt(errors, () => buildView(state, def, built));
    if (view) built.set(def.name, view);
  }

  const cubes = new Map<string, Cube>();
  for (const def of defs.values()) {
    const cube = built.get(def.name);
    if (!cube) continue;
    const accessPolicy = attempt(errors, () =>
      def.accessPolicy.length > 0 ? Object.freeze(def.accessPolicy.map((src, i) => buildPolicy(state, cube, src, i))) : undefined,
    );
    cubes.set(def.name, Object.freeze({ ...cube, accessPolicy }));
  }

  checkJoinPrimaryKeys(cubes, errors);
  const graph = validationRender(state);
  attempt(errors, () => checkCycles(graph, cubes));
  return Object.freeze({ cubes, version: options.version });
}

/** Each time dimension's custom granularity names, read from the raw definitions before members are built. */
function timeGranularitiesOf(dimensions: ReadonlyMap<string, { readonly raw: unknown }>): ReadonlyMap<string, ReadonlySet<string>> {
  const out = new Map<string, ReadonlySet<string>>();
  for (const [name, { raw }] of dimensions) {
    if (!isPlainObject(raw) || raw.type !== 'time') continue;
    const g = raw.granularities;
    out.set(name, new Set(isPlainObject(g) ? Object.keys(g) : []));
  }
  return out;
}
