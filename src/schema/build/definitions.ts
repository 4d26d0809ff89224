/**
 * Evaluated `cube()` / `view()` calls → definitions: allowed keys, member maps, joins, and `extends` resolved.
 */
import { ModelError } from '../../errors/engine-error.js';
import { evaluateReferences, type ModelIndex, type TemplateScope } from '../bind-template.js';
import { isPlainObject, type RawDefinition } from '../evaluate-model-file.js';
import { titleize } from '../titleize.js';
import type { Sourced } from './build-state.js';
import { attempt, IDENTIFIER, keySet, optionalString, plainData, readKeys, visibility } from './read-helpers.js';

// Allowed keys per object (camelCase), a superset of Cube's validator; anything else is a typo to report.
export const CUBE_KEYS = keySet(
  'sql', 'sqlTable', 'extends', 'title', 'description', 'public', 'shown', 'visible', 'meta', 'measures', 'dimensions',
  'segments', 'joins', 'preAggregations', 'accessPolicy', 'refreshKey', 'dataSource', 'sqlAlias', 'rewriteQueries',
  'hierarchies', 'folders', 'calendar',
);
export const VIEW_KEYS = keySet(
  'cubes', 'includes', 'excludes', 'extends', 'title', 'description', 'public', 'shown', 'visible', 'meta',
  'accessPolicy', 'folders', 'hierarchies', 'measures', 'dimensions', 'segments', 'defaultFilters',
);
export interface Definition {
  readonly kind: 'cube' | 'view';
  readonly name: string;
  readonly fileName: string;
  /** Top-level properties other than the member maps and lists below. */
  readonly props: Readonly<Record<string, unknown>>;
  readonly measures: ReadonlyMap<string, Sourced>;
  readonly dimensions: ReadonlyMap<string, Sourced>;
  readonly segments: ReadonlyMap<string, Sourced>;
  /** Join target → join definition. */
  readonly joins: ReadonlyMap<string, Sourced>;
  readonly accessPolicy: readonly Sourced[];
  readonly cubes: readonly Sourced[];
}

export const SPLIT_KEYS = ['measures', 'dimensions', 'segments', 'joins', 'accessPolicy', 'cubes'] as const;

export function memberMap(value: unknown, file: string, cube: string, what: string): Map<string, Sourced> {
  const out = new Map<string, Sourced>();
  if (value === undefined) return out;
  if (!isPlainObject(value)) throw new ModelError(`${what} must be an object of named members`, { file, member: cube });
  for (const [name, raw] of Object.entries(value)) {
    if (!IDENTIFIER.test(name)) throw new ModelError(`member name '${name}' is not an identifier`, { file, member: `${cube}.${name}` });
    out.set(name, { raw, file });
  }
  return out;
}

export function joinMap(value: unknown, file: string, cube: string): Map<string, Sourced> {
  const out = new Map<string, Sourced>();
  if (value === undefined) return out;
  const add = (target: unknown, raw: unknown) => {
    if (typeof target !== 'string' || !IDENTIFIER.test(target)) {
      throw new ModelError('a join needs the name of the cube it joins', { file, member: `${cube}.joins` });
    }
    if (out.has(target)) throw new ModelError(`join to ${target} is defined more than once`, { file, member: `${cube}.joins.${target}` });
    out.set(target, { raw, file });
  };
  if (Array.isArray(value)) {
    for (const item of value) add(isPlainObject(item) ? item.name : undefined, item);
  } else if (isPlainObject(value)) {
    for (const [target, raw] of Object.entries(value)) add(target, raw);
  } else {
    throw new ModelError('joins must be an object or a list', { file, member: cube });
  }
  return out;
}

export function sourcedList(value: unknown, file: string, cube: string, what: string): Sourced[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ModelError(`${what} must be a list`, { file, member: cube });
  return value.map((raw) => ({ raw, file }));
}

export function ownDefinition(def: RawDefinition): Definition {
  const where = { file: def.fileName, member: def.name };
  const all = readKeys(def.definition, def.kind === 'cube' ? CUBE_KEYS : VIEW_KEYS, where, def.kind);
  if (def.kind === 'view' && (all.measures !== undefined || all.dimensions !== undefined || all.segments !== undefined)) {
    throw new ModelError('views with members of their own are not supported; include cube members instead', where);
  }
  const props: Record<string, unknown> = { ...all };
  for (const key of SPLIT_KEYS) delete props[key];
  return {
    kind: def.kind,
    name: def.name,
    fileName: def.fileName,
    props,
    measures: memberMap(all.measures, def.fileName, def.name, 'measures'),
    dimensions: memberMap(all.dimensions, def.fileName, def.name, 'dimensions'),
    segments: memberMap(all.segments, def.fileName, def.name, 'segments'),
    joins: joinMap(all.joins, def.fileName, def.name),
    accessPolicy: sourcedList(all.accessPolicy, def.fileName, def.name, 'accessPolicy'),
    cubes: sourcedList(all.cubes, def.fileName, def.name, 'cubes'),
  };
}

/** Cube's `extends`: the parent's members, joins and policies, the child's overriding; sql and sqlTable replace each other. */
export function resolveExtends(own: ReadonlyMap<string, Definition>, index: ModelIndex, errors: ModelError[] | undefined): Map<string, Definition> {
  const done = new Map<string, Definition>();
  const resolve = (name: string, chain: readonly string[]): Definition => {
    const found = done.get(name);
    if (found) return found;
    const child = own.get(name) as Definition;
    if (child.props.extends === undefined) {
      done.set(name, child);
      return child;
    }
    const where = { file: child.fileName, member: name };
    const scope: TemplateScope = { index, cube: name, file: child.fileName, label: `${name}.extends` };
    const refs = evaluateReferences(child.props.extends, scope);
    const parentName = refs[0];
    if (refs.length !== 1 || parentName === undefined || !own.has(parentName)) {
      throw new ModelError(`extends must name one cube, got ${refs.join(', ') || 'nothing'}`, where);
    }
    if (chain.includes(parentName)) throw new ModelError(`extends cycle: ${[...chain, parentName].join(' -> ')}`, where);
    const parent = resolve(parentName, [...chain, parentName]);
    if (parent.kind !== child.kind) throw new ModelError(`a ${child.kind} cannot extend the ${parent.kind} ${parentName}`, where);
    const parentProps: Record<string, unknown> = { ...parent.props };
    if (child.props.sql !== undefined || child.props.sqlTable !== undefined) {
      delete parentProps.sql;
      delete parentProps.sqlTable;
    }
    const merged: Definition = {
      ...child,
      props: { ...parentProps, ...child.props },
      measures: new Map([...parent.measures, ...child.measures]),
      dimensions: new Map([...parent.dimensions, ...child.dimensions]),
      segments: new Map([...parent.segments, ...child.segments]),
      joins: new Map([...parent.joins, ...child.joins]),
      accessPolicy: [...parent.accessPolicy, ...child.accessPolicy],
      cubes: [...parent.cubes, ...child.cubes],
    };
    done.set(name, merged);
    return merged;
  };
  for (const name of own.keys()) attempt(errors, () => resolve(name, [name]));
  return done;
}

export interface CubeHead {
  readonly name: string;
  readonly title: string;
  readonly public: boolean;
}

export function cubeHead(def: Definition): CubeHead & { description: string | undefined; meta: Readonly<Record<string, unknown>> | undefined } {
  const where = { file: def.fileName, member: def.name };
  return {
    name: def.name,
    title: optionalString(def.props.title, where, 'title') ?? titleize(def.name),
    public: visibility(def.props, true, where).visible,
    description: optionalString(def.props.description, where, 'description'),
    meta: plainData(def.props.meta, where, 'meta'),
  };
}

