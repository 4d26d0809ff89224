/**
 * A YAML model file → the equivalent JavaScript model file text, as Cube's YAML compiler
 * does: each `cubes:` / `views:` entry becomes `cube(name, {…})` / `view(name, {…})`,
 * named lists (`measures`, `dimensions`, `joins`, …) become objects keyed by `name`, and
 * strings at template paths become template literals. The JS path then scans, wraps and
 * binds them, so a YAML model and its JS twin yield the very same SqlTemplates.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode, type Pair } from 'yaml';
import { LocatedModelError } from '../located-error.js';
import { shouldWrap } from '../../transpile-model-file.js';
import { yamlTemplateToJs } from './python-expression.js';

/** Lists of `- name: …` entries that the JS form writes as objects keyed by name. */
const NAMED_LISTS = new Set(['measures', 'dimensions', 'segments', 'joins', 'pre_aggregations', 'preAggregations', 'hierarchies', 'granularities']);
const NAMED_LIST_PARENTS: Readonly<Record<string, readonly string[]>> = {
  measures: [],
  dimensions: [],
  segments: [],
  joins: [],
  pre_aggregations: [],
  preAggregations: [],
  hierarchies: [],
  // Only a dimension's granularities, never a pre-aggregation's `granularity`.
  granularities: ['dimensions'],
};

export interface YamlModelFile {
  /** JavaScript model code: one `cube(...)` / `view(...)` call per entry. */
  readonly code: string;
  /** `cube`, `cube.member`, `cube.joins.target`, `view.cubes.0` → line in the YAML file (1-based). */
  readonly lines: ReadonlyMap<string, number>;
}

interface Emitter {
  readonly lines: Map<string, number>;
  readonly lineCounter: LineCounter;
  readonly fileName: string;
}

const lineOf = (e: Emitter, node: YamlNode | null | undefined): number | undefined =>
  node?.range ? e.lineCounter.linePos(node.range[0]).line : undefined;

function fail(e: Emitter, node: YamlNode | null | undefined, message: string, member?: string): never {
  const line = lineOf(e, node);
  throw new LocatedModelError(message, { file: e.fileName, line, member });
}

function keyOf(e: Emitter, pair: Pair): string {
  if (!isScalar(pair.key) || (typeof pair.key.value !== 'string' && typeof pair.key.value !== 'number')) {
    fail(e, pair.key as YamlNode, 'keys must be plain names');
  }
  return String(pair.key.value);
}

function scalarJs(value: unknown, template: boolean): string {
  if (typeof value === 'string') return template ? yamlTemplateToJs(value) : JSON.stringify(value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  return JSON.stringify(String(value));
}

/** Emits a YAML node as JS; `path` is the property path inside the cube (after list→object conversion). */
function emit(e: Emitter, node: YamlNode | null, path: readonly (string | number)[], label: string, inTemplate: boolean): string {
  const template = inTemplate || (path.length > 0 && shouldWrap(path));
  if (node === null) return 'null';
  if (isScalar(node)) return scalarJs(node.value, template);
  const last = path[path.length - 1];
  if (isSeq(node)) {
    const parents = typeof last === 'string' ? NAMED_LIST_PARENTS[last] : undefined;
    const named = parents !== undefined && (parents.length === 0 ? path.length === 1 : parents.includes(String(path[path.length - 3])));
    if (named && NAMED_LISTS.has(String(last))) return emitNamedList(e, node.items as YamlNode[], path, label, template);
    return `[${node.items.map((item, i) => emit(e, item as YamlNode, [...path, i], `${label}.${i}`, template)).join(', ')}]`;
  }
  if (isMap(node)) {
    const props = node.items.map((pair) => {
      const key = keyOf(e, pair);
      return `${JSON.stringify(key)}: ${emit(e, pair.value as YamlNode, [...path, key], `${label}.${key}`, template)}`;
    });
    return `{${props.join(', ')}}`;
  }
  return fail(e, node, 'aliases and tags are not supported in model files', label);
}

function emitNamedList(e: Emitter, items: readonly YamlNode[], path: readonly (string | number)[], label: string, inTemplate: boolean): string {
  const kind = String(path[path.length - 1]);
  const props = items.map((item) => {
    if (!isMap(item)) return fail(e, item, `each entry of ${kind} must be a mapping with a name`, label);
    const namePair = item.items.find((p) => isScalar(p.key) && p.key.value === 'name');
    const name = namePair && isScalar(namePair.value) ? namePair.value.value : undefined;
    if (typeof name !== 'string') return fail(e, item, `an entry of ${kind} needs a name`, label);
    const memberLabel = kind === 'joins' ? `${label}.joins.${name}` : path.length === 1 ? `${label}.${name}` : `${label}.${kind}.${name}`;
    const line = lineOf(e, item);
    if (line !== undefined) e.lines.set(memberLabel, line);
    // A join keeps its `name` (the JS list form reads it); members drop it.
    const rest = item.items.filter((p) => p !== namePair || kind === 'joins');
    const inner = rest.map((pair) => {
      const key = keyOf(e, pair);
      return `${JSON.stringify(key)}: ${emit(e, pair.value as YamlNode, [...path, name, key], `${memberLabel}.${key}`, inTemplate)}`;
    });
    return `${JSON.stringify(name)}: {${inner.join(', ')}}`;
  });
  return `{${props.join(', ')}}`;
}

/** Converts one YAML model file (already rendered by Jinja when it used Jinja). */
export function yamlToJs(fileName: string, text: string): YamlModelFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const e: Emitter = { lines: new Map(), lineCounter, fileName };
  const first = doc.errors[0];
  if (first) {
    const line = lineCounter.linePos(first.pos[0]).line;
    throw new LocatedModelError(`is not valid YAML: ${first.message.split('\n')[0]}`, { file: fileName, line });
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return { code: '', lines: e.lines };
  if (!isMap(root)) fail(e, root, 'a YAML model file must be a mapping with cubes: and views:');
  const calls: string[] = [];
  for (const pair of root.items) {
    const top = keyOf(e, pair);
    if (top !== 'cubes' && top !== 'views') fail(e, pair.key as YamlNode, `unknown top-level key '${top}'; expected cubes: or views:`);
    const list = pair.value as YamlNode | null;
    if (list === null || (isScalar(list) && list.value === null)) continue;
    if (!isSeq(list)) fail(e, list, `${top} must be a list`);
    for (const item of list.items as YamlNode[]) {
      if (!isMap(item)) fail(e, item, `each entry of ${top} must be a mapping`);
      const namePair = item.items.find((p) => isScalar(p.key) && p.key.value === 'name');
      const name = namePair && isScalar(namePair.value) ? namePair.value.value : undefined;
      if (typeof name !== 'string') fail(e, item, `each entry of ${top} needs a name`);
      const line = lineOf(e, item);
      if (line !== undefined) e.lines.set(name, line);
      const props = item.items
        .filter((p) => p !== namePair)
        .map((p) => {
          const key = keyOf(e, p);
          const value = p.value as YamlNode | null;
          if (top === 'views' && key === 'cubes' && isSeq(value)) {
            value.items.forEach((c, i) => {
              const l = lineOf(e, c as YamlNode);
              if (l !== undefined) e.lines.set(`${name}.cubes.${i}`, l);
            });
          }
          return `${JSON.stringify(key)}: ${emit(e, value, [key], name, false)}`;
        });
      calls.push(`${top === 'cubes' ? 'cube' : 'view'}(${JSON.stringify(name)}, {${props.join(', ')}});`);
    }
  }
  return { code: calls.join('\n'), lines: e.lines };
}

/** The YAML line of the most specific labelled entry a member label falls under. */
export function lineForLabel(lines: ReadonlyMap<string, number>, label: string | undefined): number | undefined {
  if (label === undefined) return undefined;
  const parts = label.split('.');
  for (let n = parts.length; n > 0; n--) {
    const line = lines.get(parts.slice(0, n).join('.'));
    if (line !== undefined) return line;
  }
  return undefined;
}
