/**
 * Cube's `CubePropContextTranspiler`, with acorn: inside every `cube(name, {...})` /
 * `view(name, {...})` call, the values of whitelisted property paths (`sql`, `sqlTable`,
 * `drillMembers`, `joinPath`, policy `if` / `values` / `member`, `extends`, …) are wrapped
 * into arrow functions whose parameters are the free identifiers they use, so that
 * `${CUBE}`, `${Users.count}` and `${SECURITY_CONTEXT.id.filter('user_id')}` are resolved
 * per query instead of at load time.
 */
import { parse, type Node } from 'acorn';
import { simple } from 'acorn-walk';
import { ModelError } from '../errors/engine-error.js';

/** The hook the transpiled code calls: `__tesseraTemplate$(siteId, (params) => (expr))`. */
export const TEMPLATE_HOOK = '__tesseraTemplate$';

/** One wrapped property value. */
export interface TemplateSite {
  readonly id: number;
  /** Free identifiers of the value, in order of first use: the arrow function's parameters. */
  readonly params: readonly string[];
  /** Dotted property path inside the definition, array indices as numbers: `measures.count.filters.0.sql`. */
  readonly path: string;
}

/** A `cube(...)` / `view(...)` call found in a file, before evaluation. */
export interface ModelCall {
  readonly kind: 'cube' | 'view';
  /** The name when it is a literal; `undefined` when computed at run time. */
  readonly name: string | undefined;
  /** Keys of the literal `measures` / `dimensions` / `segments` objects. */
  readonly memberNames: ReadonlySet<string>;
  /** `extends: Parent` (identifier or string literal), when literal. */
  readonly extendsName: string | undefined;
  readonly definition: AnyNode | undefined;
}

/** A parsed model file: what the first (scan) phase learns about it. */
export interface ScannedFile {
  readonly fileName: string;
  readonly source: string;
  readonly calls: readonly ModelCall[];
  /** Every name bound anywhere in the file; such identifiers stay closures unless they are model symbols. */
  readonly declared: ReadonlySet<string>;
}

export interface TranspiledFile {
  readonly code: string;
  readonly sites: readonly TemplateSite[];
}

/** Identifiers that are always model symbols, whatever the file declares. */
export const CONTEXT_SYMBOLS = [
  'CUBE',
  'TABLE',
  'SECURITY_CONTEXT',
  'securityContext',
  'security_context',
  'USER_CONTEXT',
  'FILTER_PARAMS',
  'FILTER_GROUP',
  'SQL_UTILS',
  'COMPILE_CONTEXT',
] as const;

// acorn's ESTree nodes, loosely typed: the walk only reads a few well-known fields.
interface AnyNode extends Node {
  [key: string]: any;
}

const SQL_KEYS = new Set(['sql', 'sqlTable', 'sql_table']);

/** Cube's `transpiledFieldsPatterns` (plus `extends`), over our dotted paths. */
const WRAPPED_PATHS: readonly RegExp[] = [
  /^extends$/,
  /^measures\.[_a-zA-Z][_a-zA-Z0-9]*\.(drillMemberReferences|drillMembers|drill_members)$/,
  /^measures\.[_a-zA-Z][_a-zA-Z0-9]*\.(timeShift|time_shift)\.[0-9]+\.(timeDimension|time_dimension)$/,
  /^(measures|dimensions)\.[_a-zA-Z][_a-zA-Z0-9]*\.(reduceBy|reduce_by|groupBy|group_by|addGroupBy|add_group_by)$/,
  /^(measures|dimensions)\.[_a-zA-Z][_a-zA-Z0-9]*\.case\.switch$/,
  /^(preAggregations|pre_aggregations)$/,
  /^(refreshKey|refresh_key)$/,
  /^hierarchies\.[_a-zA-Z][_a-zA-Z0-9]*\.levels$/,
  /^includes$/,
  /^excludes$/,
  /^cubes\.[0-9]+\.(joinPath|join_path)$/,
  /^(accessPolicy|access_policy)\.[0-9]+\.(rowLevel|row_level)\.filters\.[0-9]+(\.(and|or)\.[0-9]+)*\.(member|values)$/,
  /^(accessPolicy|access_policy)\.[0-9]+\.conditions\.[0-9]+\.if$/,
];

const RUNTIME_VALUES = new Set(['CallExpression', 'Identifier', 'MemberExpression', 'ArrowFunctionExpression', 'FunctionExpression']);

const MEMBER_MAPS = new Set(['measures', 'dimensions', 'segments', 'joins', 'hierarchies']);

/** `meta` is free-form data for clients: nothing inside it is ever a template. */
function isMetaPath(path: readonly (string | number)[]): boolean {
  const last = path[path.length - 1];
  const isMemberName = path.length === 2 && MEMBER_MAPS.has(String(path[0]));
  return last === 'meta' && !isMemberName;
}

export function shouldWrap(path: readonly (string | number)[]): boolean {
  const last = path[path.length - 1];
  if (typeof last === 'string' && SQL_KEYS.has(last)) return true;
  const dotted = path.join('.');
  return WRAPPED_PATHS.some((re) => re.test(dotted));
}

function parseFile(fileName: string, source: string): AnyNode {
  try {
    return parse(source, { ecmaVersion: 'latest', sourceType: 'script', allowHashBang: true }) as AnyNode;
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new ModelError(`cannot be parsed: ${message}`, { file: fileName }, cause);
  }
}

function literalString(node: AnyNode | undefined): string | undefined {
  if (!node) return undefined;
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis[0]?.value.cooked ?? undefined;
  return undefined;
}

function propertyKey(prop: AnyNode): string | undefined {
  if (prop.type !== 'Property' || prop.computed) return undefined;
  if (prop.key.type === 'Identifier') return prop.key.name as string;
  if (prop.key.type === 'Literal') return String(prop.key.value);
  return undefined;
}

function literalKeys(node: AnyNode | undefined): string[] {
  if (node?.type !== 'ObjectExpression') return [];
  return (node.properties as AnyNode[]).map(propertyKey).filter((k): k is string => k !== undefined);
}

function findProperty(obj: AnyNode, ...keys: string[]): AnyNode | undefined {
  return (obj.properties as AnyNode[]).find((p) => keys.includes(propertyKey(p) ?? ''))?.value;
}

/** Phase one: parse a file and find its model calls and declared names. */
export function scanModelFile(fileName: string, source: string): ScannedFile {
  const ast = parseFile(fileName, source);
  const calls: ModelCall[] = [];
  const declared = new Set<string>();
  simple(ast, {
    VariablePattern(node: AnyNode) {
      declared.add(node.name);
    },
    CallExpression(node: AnyNode) {
      const callee = node.callee;
      if (callee.type !== 'Identifier' || (callee.name !== 'cube' && callee.name !== 'view')) return;
      const args = node.arguments as AnyNode[];
      const last = args[args.length - 1];
      const definition = args.length >= 2 && last?.type === 'ObjectExpression' ? last : undefined;
      const memberNames = new Set<string>();
      let extendsName: string | undefined;
      if (definition) {
        for (const key of ['measures', 'dimensions', 'segments']) {
          for (const name of literalKeys(findProperty(definition, key))) memberNames.add(name);
        }
        const ext = findProperty(definition, 'extends');
        extendsName = ext?.type === 'Identifier' ? (ext.name as string) : literalString(ext);
      }
      calls.push({ kind: callee.name, name: literalString(args[0]), memberNames, extendsName, definition });
    },
  } as Record<string, (node: AnyNode) => void>);
  return { fileName, source, calls, declared };
}

/** Free identifiers of an expression, in order of first use. */
function freeIdentifiers(node: AnyNode): string[] {
  const refs: string[] = [];
  const local = new Set<string>();
  simple(node, {
    Identifier(n: AnyNode) {
      refs.push(n.name);
    },
    VariablePattern(n: AnyNode) {
      local.add(n.name);
    },
  } as Record<string, (node: AnyNode) => void>);
  return [...new Set(refs)].filter((name) => !local.has(name));
}

interface Replacement {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/**
 * Phase two: wraps the whitelisted values of every literal definition in the file.
 * `knownFor(call)` gives the model symbols visible from that definition (cube names,
 * its members, context symbols); they become parameters even if the file declares the name.
 * `builtins` are the globals of a fresh `vm` context (`Math`, `JSON`, …), never parameters.
 */
export function transpileModelFile(
  scanned: ScannedFile,
  knownFor: (call: ModelCall) => ReadonlySet<string>,
  builtins: ReadonlySet<string>,
): TranspiledFile {
  const { source, fileName } = scanned;
  const sites: TemplateSite[] = [];
  const replacements: Replacement[] = [];

  const wrap = (value: AnyNode, path: readonly (string | number)[], known: ReadonlySet<string>) => {
    // `sql: () => …`, `sql: (CUBE) => …` and `sql: function () { … }`: the body is the value; its parameters resolve by name.
    const isArrow = value.type === 'ArrowFunctionExpression' || (value.type === 'FunctionExpression' && !value.generator && !value.async);
    const body: AnyNode = isArrow ? value.body : value;
    const params = freeIdentifiers(body).filter(
      (name) => known.has(name) || (!scanned.declared.has(name) && !builtins.has(name)),
    );
    const id = sites.length;
    sites.push({ id, params, path: path.join('.') });
    const bodyText = source.slice(body.start, body.end);
    const fn = isArrow && body.type === 'BlockStatement' ? `(${params.join(', ')}) => ${bodyText}` : `(${params.join(', ')}) => (${bodyText})`;
    replacements.push({ start: value.start, end: value.end, text: `${TEMPLATE_HOOK}(${id}, ${fn})` });
  };

  // Cube's transpiler wraps every `sql` property inside a definition, also one built by code (a spread, a
  // `reduce` callback, a helper's object literal), so `${CUBE.x}` there is a reference, not a JS variable.
  const wrapComputed = (node: AnyNode, path: readonly (string | number)[], known: ReadonlySet<string>) => {
    if (node.type === 'Property' && !node.computed) {
      const key = propertyKey(node);
      // A call, a name or a function there yields its value at run time (a helper's `(CUBE) => …` included), read as is.
      if (key !== undefined && SQL_KEYS.has(key) && !RUNTIME_VALUES.has(node.value.type)) {
        wrap(node.value, [...path, key], known);
        return;
      }
    }
    for (const [field, child] of Object.entries(node)) {
      if (field === 'type' || field === 'start' || field === 'end' || field === 'loc') continue;
      for (const c of Array.isArray(child) ? child : [child]) {
        if (c !== null && typeof c === 'object' && typeof (c as AnyNode).type === 'string') wrapComputed(c as AnyNode, path, known);
      }
    }
  };

  const visit = (node: AnyNode, path: (string | number)[], known: ReadonlySet<string>, owner: string) => {
    if (node.type === 'ArrayExpression') {
      (node.elements as (AnyNode | null)[]).forEach((el, i) => {
        if (el) visit(el, [...path, i], known, owner);
      });
      return;
    }
    if (node.type !== 'ObjectExpression') {
      wrapComputed(node, path, known);
      return;
    }
    const seen = new Set<string>();
    for (const prop of node.properties as AnyNode[]) {
      const key = propertyKey(prop);
      if (key === undefined) {
        wrapComputed(prop, path, known);
        continue;
      }
      const childPath = [...path, key];
      // Cube's CubeCheckDuplicatePropTranspiler: a repeated key would silently drop a definition.
      if (seen.has(key)) {
        throw new ModelError(`duplicate property '${key}'`, { file: fileName, member: [owner, ...childPath].join('.') });
      }
      seen.add(key);
      if (isMetaPath(childPath)) continue;
      if (shouldWrap(childPath)) wrap(prop.value, childPath, known);
      else visit(prop.value, childPath, known, owner);
    }
  };

  for (const call of scanned.calls) {
    if (call.definition) visit(call.definition, [], knownFor(call), call.name ?? '<unnamed>');
  }

  let code = source;
  for (const r of [...replacements].sort((a, b) => b.start - a.start)) {
    code = code.slice(0, r.start) + r.text + code.slice(r.end);
  }
  return { code, sites };
}
