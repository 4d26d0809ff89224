/**
 * Reading raw definition objects: key normalisation (camelCase and snake_case, unknown keys
 * are errors), typed optional values, visibility, plain data, member references.
 */
import { ModelError } from '../../errors/engine-error.js';
import type { MemberKind, ModelIndex } from '../bind-template.js';
import { isPlainObject } from '../evaluate-model-file.js';
import type { Cube, Dimension, Measure, Segment } from '../model.js';
import { RawTemplate } from '../raw-template.js';

export interface Where {
  readonly file: string;
  readonly member?: string;
}

export const IDENTIFIER = /^[_a-zA-Z][_a-zA-Z0-9]*$/;
export const toCamel = (key: string) => key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
export const keySet = (...keys: string[]): ReadonlySet<string> => new Set(keys);

/** Real Cube features Tessera does not implement: loading them silently would change results or security. */
export const UNSUPPORTED: Readonly<Record<string, string>> = {
  multiStage: 'multi-stage members are not supported',
  groupBy: 'multi-stage members are not supported',
  reduceBy: 'multi-stage members are not supported',
  addGroupBy: 'multi-stage members are not supported',
  timeShift: 'multi-stage members are not supported',
  orderBy: 'multi-stage members are not supported',
  memberMasking: 'member masking is not supported',
  defaultFilters: 'view default filters are not supported',
  split: 'split views are not supported',
};

export function readKeys(value: unknown, allowed: ReadonlySet<string>, where: Where, what: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw new ModelError(`${what} must be an object`, where);
  const out: Record<string, unknown> = {};
  const original: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    const camel = toCamel(key);
    if (!allowed.has(camel)) throw new ModelError(`unknown property '${key}' in ${what}`, where);
    if (Object.hasOwn(out, camel)) throw new ModelError(`both '${original[camel]}' and '${key}' are set in ${what}`, where);
    const unsupported = UNSUPPORTED[camel];
    if (unsupported !== undefined && v !== undefined && v !== false) throw new ModelError(`${unsupported} ('${key}')`, where);
    out[camel] = v;
    original[camel] = key;
  }
  return out;
}

export function optionalString(value: unknown, where: Where, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ModelError(`${what} must be a string`, where);
  return value;
}

export function optionalBoolean(value: unknown, where: Where, what: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new ModelError(`${what} must be true or false`, where);
  return value;
}

/** Cube's `isVisible`: `public` wins, then the deprecated `visible`, then `shown`. */
export function visibility(d: Record<string, unknown>, fallback: boolean, where: Where): { visible: boolean; explicitlyHidden: boolean } {
  const flag =
    optionalBoolean(d.public, where, 'public') ?? optionalBoolean(d.visible, where, 'visible') ?? optionalBoolean(d.shown, where, 'shown');
  return { visible: flag ?? fallback, explicitlyHidden: flag === false };
}

export function plainData(value: unknown, where: Where, what: string): Readonly<Record<string, unknown>> | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) throw new ModelError(`${what} must be an object`, where);
  let copy: unknown;
  try {
    copy = structuredClone(value);
  } catch (cause) {
    throw new ModelError(`${what} must be plain data`, where, cause);
  }
  return deepFreeze(copy) as Readonly<Record<string, unknown>>;
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export function fileOf(raw: unknown, fallback: string): string {
  return raw instanceof RawTemplate ? raw.fileName : fallback;
}

/** `'it''s'`: case labels are the model author's text, written as SQL string literals. */
export function sqlLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** `'Users.city'` / `'city'` / `'Orders.Users.city'` → `Users.city`, checked against the index. */
export function qualifyMember(ref: string, cube: string, index: ModelIndex, kinds: readonly MemberKind[], where: Where, what: string): string {
  const parts = ref.split('.');
  const member = parts[parts.length - 1] ?? '';
  const owner = parts.length === 1 ? cube : (parts[parts.length - 2] ?? '');
  const kind = index.get(owner)?.members.get(member);
  if (kind === undefined || !kinds.includes(kind)) throw new ModelError(`${what} ${ref} cannot be resolved`, where);
  return `${owner}.${member}`;
}

export function memberOf(cube: Cube, name: string): Measure | Dimension | Segment | undefined {
  return cube.measures.get(name) ?? cube.dimensions.get(name) ?? cube.segments.get(name);
}

/** Runs `fn`; with an error list, a ModelError is recorded instead of thrown. */
export function attempt<T>(errors: ModelError[] | undefined, fn: () => T): T | undefined {
  if (!errors) return fn();
  try {
    return fn();
  } catch (cause) {
    if (!(cause instanceof ModelError)) throw cause;
    errors.push(cause);
    return undefined;
  }
}
