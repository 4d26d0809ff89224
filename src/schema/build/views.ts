/**
 * Views: `cubes: [{join_path, includes, excludes, prefix, alias}]` (and the older top-level `includes`) → members that expose cube members.
 */
import { EngineError, ModelError } from '../../errors/engine-error.js';
import { evaluateReferences, type MemberKind, type TemplateScope } from '../bind-template.js';
import type { Cube, Dimension, Measure, Segment, SqlTemplate } from '../model.js';
import { titleize } from '../titleize.js';
import type { BuildState } from './build-state.js';
import { DIMENSION_FORMATS, MEASURE_FORMATS } from './member-types.js';
import {
  IDENTIFIER,
  keySet,
  memberOf,
  optionalBoolean,
  optionalString,
  plainData,
  readKeys,
  type Where,
} from './read-helpers.js';
import { readFolders, readHierarchies } from './cube-extras.js';
import { cubeHead, type Definition } from './definitions.js';
import { readFormat, type MemberBase } from './members.js';

export const VIEW_CUBE_KEYS = keySet('joinPath', 'prefix', 'split', 'alias', 'includes', 'excludes');
export const VIEW_INCLUDE_KEYS = keySet('name', 'alias', 'title', 'description', 'format', 'meta');
export interface ViewEntry {
  readonly viewName: string;
  readonly member: string;
  readonly joinPath: readonly string[];
  readonly override: { title?: string; description?: string; format?: string; meta?: Readonly<Record<string, unknown>> };
}

export function joinPathOf(state: BuildState, cubes: ReadonlyMap<string, Cube>, refs: readonly string[], where: Where): string[] {
  const path = refs.length === 1 ? (refs[0] as string).split('.') : [];
  if (path.length === 0 || path.some((p) => !p)) throw new ModelError('join_path must be one cube path like Orders.Users', where);
  path.forEach((name, i) => {
    if (state.index.get(name)?.kind !== 'cube') throw new ModelError(`join_path names ${name}, which is not a cube`, where);
    if (!cubes.has(name)) throw new ModelError(`join_path names ${name}, which has errors of its own`, where);
    const next = path[i + 1];
    if (next !== undefined && !cubes.get(name)?.joins.some((j) => j.to === next)) {
      throw new ModelError(`join_path ${path.join('.')}: ${name} has no join to ${next}`, where);
    }
  });
  return path;
}

export function viewEntries(state: BuildState, def: Definition, cubes: ReadonlyMap<string, Cube>): ViewEntry[] {
  const entries: ViewEntry[] = [];
  def.cubes.forEach((src, i) => {
    const where = { file: src.file, member: `${def.name}.cubes.${i}` };
    const d = readKeys(src.raw, VIEW_CUBE_KEYS, where, 'view cube');
    const scope: TemplateScope = { index: state.index, cube: def.name, file: src.file, label: where.member };
    if (d.joinPath === undefined) throw new ModelError('join_path is required', where);
    const joinPath = joinPathOf(state, cubes, evaluateReferences(d.joinPath, scope), where);
    const targetName = joinPath[joinPath.length - 1] as string;
    const target = cubes.get(targetName) as Cube;
    const prefix = optionalBoolean(d.prefix, where, 'prefix') ?? false;
    const alias = optionalString(d.alias, where, 'alias');
    const viewName = (member: string) => (prefix ? `${alias ?? targetName}_${member}` : member);

    const excludes = d.excludes === undefined ? [] : d.excludes;
    if (!Array.isArray(excludes) || !excludes.every((e): e is string => typeof e === 'string')) {
      throw new ModelError('excludes must be a list of member names', where);
    }
    for (const name of excludes) {
      if (name.includes('.')) throw new ModelError(`Paths aren't allowed in cube excludes but '${name}' provided as exclude member`, where);
      // A mistyped exclude would silently expose the member it meant to hide.
      if (!memberOf(target, name)) throw new ModelError(`excluded member '${name}' is not defined in ${targetName}`, where);
    }
    const excluded = new Set(excludes);

    let picked: { member: string; name: string; override: ViewEntry['override'] }[];
    if (d.includes === '*') {
      // Unlike Cube (#11228), '*' never re-exposes a member its cube hides (explicitly, or a primary key by default).
      picked = [...target.measures.keys(), ...target.dimensions.keys(), ...target.segments.keys()]
        .filter((m) => !state.explicitlyHidden.has(`${targetName}.${m}`))
        .map((m) => ({ member: m, name: viewName(m), override: {} }));
    } else if (Array.isArray(d.includes)) {
      picked = d.includes.map((inc: unknown) => {
        const id = typeof inc === 'string' ? { name: inc } : readKeys(inc, VIEW_INCLUDE_KEYS, where, 'view include');
        if (typeof id.name !== 'string') throw new ModelError('an include needs a member name', where);
        if (id.name.includes('.')) throw new ModelError(`Paths aren't allowed in cube includes but '${id.name}' provided as include member`, where);
        if (!memberOf(target, id.name)) {
          throw new ModelError(`Member '${id.name}' is included in '${def.name}' but not defined in any cube`, where);
        }
        const aliasName = optionalString(id.alias, where, 'alias');
        if (aliasName !== undefined && !IDENTIFIER.test(aliasName)) throw new ModelError(`alias '${aliasName}' is not an identifier`, where);
        return {
          member: id.name,
          name: viewName(aliasName ?? id.name),
          override: {
            title: optionalString(id.title, where, 'title'),
            description: optionalString(id.description, where, 'description'),
            format: id.format === undefined ? undefined : readFormat(id.format, new Set([...MEASURE_FORMATS, ...DIMENSION_FORMATS]), where),
            meta: plainData(id.meta, where, 'meta'),
          },
        };
      });
    } else {
      throw new ModelError("includes must be '*' or a list of member names", where);
    }
    for (const p of picked) {
      if (!excluded.has(p.member)) entries.push({ viewName: p.name, member: p.member, joinPath, override: p.override });
    }
  });

  // Cube's older form: top-level `includes: [Orders.count, Users.city]`.
  if (def.props.includes !== undefined) {
    const where = { file: def.fileName, member: `${def.name}.includes` };
    const scope: TemplateScope = { index: state.index, cube: def.name, file: def.fileName, label: where.member };
    const excludes = new Set(def.props.excludes === undefined ? [] : evaluateReferences(def.props.excludes, scope));
    for (const ref of evaluateReferences(def.props.includes, scope)) {
      if (excludes.has(ref)) continue;
      const parts = ref.split('.');
      const member = parts.pop() as string;
      const joinPath = joinPathOf(state, cubes, [parts.join('.')], where);
      if (!memberOf(cubes.get(joinPath[joinPath.length - 1] as string) as Cube, member)) {
        throw new ModelError(`Member '${ref}' is included in '${def.name}' but not defined in any cube`, where);
      }
      entries.push({ viewName: member, member, joinPath, override: {} });
    }
  }
  return entries;
}

export function buildView(state: BuildState, def: Definition, cubes: ReadonlyMap<string, Cube>): Cube {
  const head = cubeHead(def);
  const measures = new Map<string, Measure>();
  const dimensions = new Map<string, Dimension>();
  const segments = new Map<string, Segment>();
  const viewMembers = new Map<string, { cube: string; member: string; joinPath: readonly string[] }>();
  const indexed = new Map<string, MemberKind>();

  for (const entry of viewEntries(state, def, cubes)) {
    const where = { file: def.fileName, member: `${def.name}.${entry.viewName}` };
    if (viewMembers.has(entry.viewName)) {
      throw new ModelError(
        `Included member '${entry.viewName}' conflicts with existing member of '${def.name}'. Please consider excluding this member or assigning it an alias.`,
        where,
      );
    }
    const cubeName = entry.joinPath[entry.joinPath.length - 1] as string;
    const original = memberOf(cubes.get(cubeName) as Cube, entry.member) as Measure | Dimension | Segment;
    const short = entry.override.title ?? state.explicitTitles.get(`${cubeName}.${entry.member}`) ?? titleize(entry.viewName);
    const base: MemberBase = {
      name: entry.viewName,
      cube: def.name,
      title: `${head.title} ${short}`,
      shortTitle: short,
      description: entry.override.description ?? original.description,
      format: entry.override.format ?? original.format,
      currency: original.currency,
      meta: entry.override.meta ?? original.meta,
      public: head.public,
    };
    const sql: SqlTemplate = (ctx) => ctx.memberRef(cubeName, entry.member);
    viewMembers.set(entry.viewName, Object.freeze({ cube: cubeName, member: entry.member, joinPath: Object.freeze([...entry.joinPath]) }));
    indexed.set(entry.viewName, original.kind);
    if (original.kind === 'measure') {
      const calculated = original.type === 'string' || original.type === 'time' || original.type === 'boolean';
      measures.set(entry.viewName, Object.freeze({
        kind: 'measure',
        ...base,
        type: calculated ? original.type : 'number',
        aggType: original.type,
        sql,
        filters: Object.freeze([]),
        drillMembers: original.drillMembers,
      }));
    } else if (original.kind === 'dimension') {
      // As in Cube, a view's time dimension keeps its cube's custom granularities.
      dimensions.set(entry.viewName, Object.freeze({ kind: 'dimension', ...base, type: original.type, sql, primaryKey: false, subQuery: false, granularities: original.granularities }));
    } else {
      segments.set(entry.viewName, Object.freeze({ kind: 'segment', ...base, sql }));
    }
  }
  state.index.set(def.name, { kind: 'view', members: indexed });
  const name = def.name;
  return {
    name,
    fileName: def.fileName,
    kind: 'view',
    title: head.title,
    description: head.description,
    public: head.public,
    source: Object.freeze({
      kind: 'sql' as const,
      sql: () => {
        throw new EngineError('ERR_PLAN_UNSUPPORTED', `View ${name} has no SQL source; plan its members through viewMembers`);
      },
    }),
    measures,
    dimensions,
    segments,
    joins: Object.freeze([]),
    viewMembers,
    meta: head.meta,
    folders: readFolders(def.props.folders, new Set(viewMembers.keys()), { file: def.fileName, member: def.name }),
    hierarchies: readHierarchies(state, def.props.hierarchies, def.name, def.fileName, { file: def.fileName, member: def.name }),
  };
}

