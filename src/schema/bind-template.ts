/**
 * Turns a transpiled property value (a `RawTemplate`) into what the Model holds:
 * a `SqlTemplate` (`(ctx) => string`), a list of member references, or a function of
 * the security context (access policies). Each parameter name is resolved ONCE, at
 * load, so an unknown identifier is a ModelError at start-up, never at query time.
 */
import { ModelError } from '../errors/engine-error.js';
import { messageOf } from './evaluate-model-file.js';
import type { FilterParamRef, SqlRenderContext, SqlTemplate } from './model.js';
import { EMPTY_COMPILE_CONTEXT, templateCompileContext, type CompileContext } from './load/compile-context.js';
import { RawTemplate } from './raw-template.js';
import { securityContextProxy } from './security-context-proxy.js';
import type { CONTEXT_SYMBOLS } from './transpile-model-file.js';

export type MemberKind = 'measure' | 'dimension' | 'segment';

/** What templates may reference: every cube and view with its member names, filled before any render. */
export interface IndexedCube {
  readonly kind: 'cube' | 'view';
  readonly members: ReadonlyMap<string, MemberKind>;
  /** Time dimensions → their custom granularity names: `${created_at.fiscal_year}` is a granularity reference. */
  readonly timeGranularities?: ReadonlyMap<string, ReadonlySet<string>>;
  /** The cube's FROM source, for `${Other.sql()}`; set once the cube is built. */
  source?: SqlTemplate;
  /** Whether that source is a `sql_table` (a table name) rather than a SELECT. */
  sourceIsTable?: boolean;
}
export type ModelIndex = Map<string, IndexedCube>;

/** Where a template sits: the cube it is evaluated for (which `CUBE` and bare names mean) and, for errors, its file and member. */
export interface TemplateScope {
  readonly index: ModelIndex;
  readonly cube: string;
  readonly file: string;
  readonly label: string;
}

type ContextSymbol = (typeof CONTEXT_SYMBOLS)[number];

/** The COMPILE_CONTEXT each model (by its index) is being compiled for. */
const compileContexts = new WeakMap<ModelIndex, CompileContext>();
export function setCompileContext(index: ModelIndex, ctx: CompileContext): void {
  compileContexts.set(index, ctx);
}
type Resolver = (ctx: SqlRenderContext) => unknown;

const PATH = Symbol('tessera.referencePath');
const FILTER_PARAM = Symbol('tessera.filterParam');
const isPrimitiveKey = (prop: string | symbol) => prop === Symbol.toPrimitive || prop === 'toString' || prop === 'valueOf';

function whereOf(scope: TemplateScope) {
  return { file: scope.file, member: scope.label };
}

function stringifier(render: () => string): ProxyHandler<object> {
  return {
    get(_target, prop) {
      if (isPrimitiveKey(prop)) return render;
      return undefined;
    },
  };
}

const SELECT_ASTERISK = /^\s*select\s+\*\s+from\s+([a-zA-Z0-9_\-`".*]+)\s*$/i;

const PREDEFINED_GRANULARITIES = new Set(['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year']);

/** `${CUBE.amount}` / `${Orders.count}` / bare `${count}`: stringifies to `ctx.memberRef`; `.month` on a time dimension is a granularity. */
function memberProxy(ctx: SqlRenderContext, cube: string, member: string, index?: ModelIndex): object {
  const render = () => ctx.memberRef(cube, member);
  return new Proxy(Object.create(null) as object, {
    get(_target, prop) {
      if (isPrimitiveKey(prop)) return render;
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      const custom = index?.get(cube)?.timeGranularities?.get(member);
      if (custom && (custom.has(prop) || PREDEFINED_GRANULARITIES.has(prop))) {
        return new Proxy(Object.create(null) as object, stringifier(() => {
          if (!ctx.granularityRef) throw new ModelError(`${cube}.${member}.${prop}: granularity references cannot be rendered here`);
          return ctx.granularityRef(cube, member, prop);
        }));
      }
      throw new ModelError(`${cube}.${member}.${prop} cannot be resolved`);
    },
  });
}

/** `${CUBE}` / `${Users}`: stringifies to `ctx.cubeRef`; properties are members (or, as in Cube, `sql()` and joined cubes). */
function cubeProxy(ctx: SqlRenderContext, index: ModelIndex, cube: string): object {
  const render = () => ctx.cubeRef(cube);
  return new Proxy(Object.create(null) as object, {
    get(_target, prop) {
      if (isPrimitiveKey(prop)) return render;
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      const indexed = index.get(cube);
      if (indexed?.members.has(prop)) return memberProxy(ctx, cube, prop, index);
      if (prop === 'sql') {
        return () => {
          if (!indexed?.source) throw new ModelError(`${cube} has no SQL source of its own`);
          const sql = indexed.source(ctx);
          if (indexed.sourceIsTable) return sql;
          // As Cube's cubeSql: `SELECT * FROM t` is the table itself, any other SELECT a parenthesised subquery.
          return SELECT_ASTERISK.exec(sql)?.[1] ?? `(${sql})`;
        };
      }
      if (index.get(prop)?.kind === 'cube') return cubeProxy(ctx, index, prop);
      throw new ModelError(`${cube}.${prop} cannot be resolved. There's no such member or cube`);
    },
  });
}

interface FilterParamItem extends FilterParamRef {
  readonly [FILTER_PARAM]: true;
}

function filterParamItem(ctx: SqlRenderContext, ref: FilterParamRef): object {
  const render = () => (ctx.filterParam ? ctx.filterParam(ref.cube, ref.member, ref.column) : '1 = 1');
  const item = { ...ref, [FILTER_PARAM]: true as const, [Symbol.toPrimitive]: render, toString: render };
  return Object.freeze(item);
}

/** `FILTER_PARAMS.<cube>.<member>.filter(column | fn)`: the query's own filter, or `1 = 1`. */
function filterParamsProxy(ctx: SqlRenderContext, index: ModelIndex): object {
  return new Proxy(Object.create(null) as object, {
    get(_target, cube) {
      if (typeof cube !== 'string') return undefined;
      const indexed = index.get(cube);
      if (!indexed) throw new ModelError(`FILTER_PARAMS.${cube} cannot be resolved. There's no such cube`);
      return new Proxy(Object.create(null) as object, {
        get(_t, member) {
          if (typeof member !== 'string') return undefined;
          const kind = indexed.members.get(member);
          if (kind === undefined || kind === 'segment') {
            throw new ModelError(`FILTER_PARAMS.${cube}.${member} cannot be resolved. There's no such dimension or measure`);
          }
          return Object.freeze({
            filter: (column: unknown) => {
              if (typeof column !== 'string' && typeof column !== 'function') {
                throw new ModelError(`FILTER_PARAMS.${cube}.${member}.filter() needs a column name or a function`);
              }
              return filterParamItem(ctx, { cube, member, column: column as FilterParamRef['column'] });
            },
          });
        },
      });
    },
  });
}

/** `FILTER_GROUP(...)`: several FILTER_PARAMS, combined by the compiler (or ANDed when it cannot). */
function filterGroup(ctx: SqlRenderContext): (...items: unknown[]) => object {
  return (...items) => {
    const refs = items.map((item) => {
      if (typeof item !== 'object' || item === null || !(FILTER_PARAM in item)) {
        throw new ModelError('FILTER_GROUP expects FILTER_PARAMS args to be passed');
      }
      const { cube, member, column } = item as FilterParamItem;
      return { cube, member, column };
    });
    const render = () => {
      if (ctx.filterGroup) return ctx.filterGroup(refs);
      if (items.length === 0) return '1 = 1';
      return items.map((item) => `(${String(item)})`).join(' AND ');
    };
    return new Proxy(Object.create(null) as object, stringifier(render));
  };
}

function sqlUtils(ctx: SqlRenderContext): object {
  return Object.freeze({
    convertTz: (sql: unknown) => (ctx.convertTz ? ctx.convertTz(String(sql)) : String(sql)),
  });
}

const CONTEXT_RESOLVERS: Record<ContextSymbol, (scope: TemplateScope) => Resolver> = {
  CUBE: (scope) => (ctx) => cubeProxy(ctx, scope.index, scope.cube),
  TABLE: (scope) => (ctx) => cubeProxy(ctx, scope.index, scope.cube),
  SECURITY_CONTEXT: () => securityContextProxy,
  securityContext: () => securityContextProxy,
  security_context: () => securityContextProxy,
  USER_CONTEXT: () => securityContextProxy,
  FILTER_PARAMS: (scope) => (ctx) => filterParamsProxy(ctx, scope.index),
  FILTER_GROUP: () => filterGroup,
  SQL_UTILS: () => sqlUtils,
  COMPILE_CONTEXT: (scope) => {
    const view = templateCompileContext(compileContexts.get(scope.index) ?? EMPTY_COMPILE_CONTEXT);
    return () => view;
  },
};

const isContextSymbol = (name: string): name is ContextSymbol => Object.hasOwn(CONTEXT_RESOLVERS, name);

/** Cube's resolution order: CUBE and context symbols, then a member of the current cube, then a cube. */
function sqlResolver(name: string, scope: TemplateScope): Resolver {
  if (isContextSymbol(name)) return CONTEXT_RESOLVERS[name](scope);
  if (scope.index.get(scope.cube)?.members.has(name)) return (ctx) => memberProxy(ctx, scope.cube, name, scope.index);
  const target = scope.index.get(name);
  if (target?.kind === 'cube') return (ctx) => cubeProxy(ctx, scope.index, name);
  if (target?.kind === 'view') throw new ModelError(`view ${name} cannot be referenced from SQL`);
  throw new ModelError(`unknown reference '${name}': it is not a member of ${scope.cube}, a cube or a context variable`);
}

function toSqlText(out: unknown): string {
  if (typeof out === 'string') return out;
  if (typeof out === 'number' || typeof out === 'bigint' || typeof out === 'boolean') return String(out);
  if (typeof out === 'object' && out !== null && typeof (out as Record<symbol, unknown>)[Symbol.toPrimitive] === 'function') {
    return String(out);
  }
  throw new ModelError(`must evaluate to SQL text, got ${out === null ? 'null' : typeof out}`);
}

/** A `sql` / `sqlTable` / join `sql` / filter `sql` value → `(ctx) => string`, rendered per query. */
export function bindSqlTemplate(value: unknown, scope: TemplateScope): SqlTemplate {
  if (typeof value === 'string') return () => value;
  const raw = typeof value === 'function' ? rawFromFunction(value, scope) : value;
  if (!(raw instanceof RawTemplate)) {
    throw new ModelError(`sql must be a string or a template literal, got ${typeof raw}`, whereOf(scope));
  }
  const render = renderWith(raw, scope);
  return (ctx) => toSqlText(render(ctx));
}

/** A template's function with each parameter resolved once, now, for the given scope. */
function renderWith(raw: RawTemplate, scope: TemplateScope): (ctx: SqlRenderContext) => unknown {
  let resolvers: Resolver[];
  try {
    resolvers = raw.params.map((name) => sqlResolver(name, scope));
  } catch (cause) {
    throw rethrowWithWhere(cause, scope);
  }
  const { fn } = raw;
  return (ctx) => fn(...resolvers.map((resolve) => resolve(ctx)));
}

/** A wrapped object value (`refresh_key: {sql: …}`) → `(ctx) => object`, its templates rendered per query. */
export function bindObjectTemplate(value: unknown, scope: TemplateScope): (ctx: SqlRenderContext) => unknown {
  const raw = typeof value === 'function' ? rawFromFunction(value, scope) : value;
  return raw instanceof RawTemplate ? renderWith(raw, scope) : () => raw;
}

/** Renders a value computed by a template as SQL text (strings, numbers, member references). */
export const sqlTextOf = (out: unknown): string => toSqlText(out);

/**
 * A member given as a function that the transpiler did not see (built by a helper, `sql: (CUBE) => …`):
 * as Cube does, its parameter names say what it references.
 */
function rawFromFunction(fn: unknown, scope: TemplateScope): RawTemplate {
  const text = Function.prototype.toString.call(fn);
  const head = /^(?:async\s*)?(?:function\b[^(]*)?\(([^)]*)\)|^(?:async\s+)?([_$a-zA-Z][_$a-zA-Z0-9]*)\s*=>/.exec(text);
  const list = head?.[1] ?? head?.[2] ?? '';
  const params = list.split(',').map((p) => p.trim()).filter(Boolean);
  if (!params.every((p) => /^[_$a-zA-Z][_$a-zA-Z0-9]*$/.test(p))) {
    throw new ModelError('a member given as a function may only take plain parameter names', whereOf(scope));
  }
  return new RawTemplate(fn as (...args: unknown[]) => unknown, params, scope.label, scope.file);
}

/** Evaluates a wrapped data value (`pre_aggregations`) with references as dotted paths; strings and data kept. */
export function evaluateReferenceTree(raw: unknown, scope: TemplateScope): unknown {
  let out = raw;
  try {
    if (raw instanceof RawTemplate) out = raw.fn(...raw.params.map((name) => referenceResolver(name, scope)));
  } catch (cause) {
    throw rethrowWithWhere(cause, scope);
  }
  const walk = (v: unknown): unknown => {
    if (typeof v === 'object' && v !== null) {
      const path = (v as Record<symbol, unknown>)[PATH];
      if (Array.isArray(path)) return path.join('.');
      if (Array.isArray(v)) return v.map(walk);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return typeof v === 'function' ? undefined : v;
  };
  return walk(out);
}

/** Adds the file and member to an error raised while binding or rendering a template. */
export function rethrowWithWhere(cause: unknown, scope: TemplateScope): ModelError {
  if (cause instanceof ModelError && cause.file !== undefined) return cause;
  const message = cause instanceof ModelError ? cause.message : messageOf(cause);
  return new ModelError(message, whereOf(scope), cause);
}

function pathProxy(path: readonly string[]): object {
  const render = () => path.join('.');
  return new Proxy(Object.create(null) as object, {
    get(_target, prop) {
      if (isPrimitiveKey(prop)) return render;
      if (prop === PATH) return path;
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      return pathProxy([...path, prop]);
    },
  });
}

function referenceResolver(name: string, scope: TemplateScope): unknown {
  if (name === 'CUBE' || name === 'TABLE') return pathProxy([scope.cube]);
  if (scope.index.get(scope.cube)?.members.has(name)) return pathProxy([scope.cube, name]);
  if (scope.index.has(name)) return pathProxy([name]);
  throw new ModelError(`unknown reference '${name}': it is not a member of ${scope.cube} or a cube`);
}

/**
 * Evaluates a reference-list value (`drillMembers`, `extends`, `join_path`, policy `member`)
 * to dotted paths: `[id, Users.city]` → `['Orders.id', 'Users.city']`; strings are kept as written.
 */
export function evaluateReferences(raw: unknown, scope: TemplateScope): string[] {
  let out = raw;
  try {
    if (raw instanceof RawTemplate) out = raw.fn(...raw.params.map((name) => referenceResolver(name, scope)));
  } catch (cause) {
    throw rethrowWithWhere(cause, scope);
  }
  const list: readonly unknown[] = Array.isArray(out) ? out : [out];
  return list.map((item) => {
    if (typeof item === 'string') return item;
    const path = typeof item === 'object' && item !== null ? (item as Record<symbol, unknown>)[PATH] : undefined;
    if (Array.isArray(path)) return path.join('.');
    throw new ModelError(`must be member references or names, got ${typeof item}`, whereOf(scope));
  });
}

const SECURITY_CONTEXT_NAMES: ReadonlySet<string> = new Set(['SECURITY_CONTEXT', 'securityContext', 'security_context', 'USER_CONTEXT']);

/**
 * An access-policy value (`conditions[].if`, row filter `values`) → a function of the raw
 * security context, evaluated per request. As in Cube, only the context may be referenced.
 */
export function bindContextFunction(raw: unknown, scope: TemplateScope): (securityContext: unknown) => unknown {
  if (!(raw instanceof RawTemplate)) return () => raw;
  for (const name of raw.params) {
    if (!SECURITY_CONTEXT_NAMES.has(name)) {
      throw new ModelError(
        `Cube references are not allowed when evaluating RLS conditions or filters. Found: ${name} in ${scope.cube}`,
        whereOf(scope),
      );
    }
  }
  const { fn, params } = raw;
  return (securityContext) => fn(...params.map(() => securityContext));
}
