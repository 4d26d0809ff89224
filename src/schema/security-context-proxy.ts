/**
 * `SECURITY_CONTEXT` / `securityContext` / `security_context` / `USER_CONTEXT` inside model SQL.
 * Cube's semantics (`CubeSymbols.contextSymbolsProxyFrom`), failing closed where Cube fails open:
 * only a missing key (`undefined`) is absent; `0`, `''`, `false` and `null` are real values that
 * are bound (a bound `null` matches no row). Values only ever reach SQL through `ctx.param`.
 */
import { EngineError, ModelError } from '../errors/engine-error.js';
import type { SecurityContext, SqlRenderContext } from './model.js';
import { ValidationContext } from './validation-context.js';

/** A render context that is told the claim path of every `.filter()` / `.requiredFilter()` call (the policy stage's analysis). */
export interface SecurityFilterRecorder {
  recordSecurityFilter(path: readonly string[], required: boolean): void;
}

const isRecorder = (ctx: SqlRenderContext): ctx is SqlRenderContext & SecurityFilterRecorder =>
  typeof (ctx as Partial<SecurityFilterRecorder>).recordSecurityFilter === 'function';

const MATCH_ALL_CONTEXTS = new WeakSet<object>();

/** Marks a context whose missing claims behave as in Cube (`missingClaims: matchAll`): `unsafeValue()` gives undefined. */
export function allowMissingClaims(context: SecurityContext): void {
  MATCH_ALL_CONTEXTS.add(context);
}

export const missingClaimsAllowed = (context: SecurityContext): boolean => MATCH_ALL_CONTEXTS.has(context);

type Column = string | ((placeholders: string | string[]) => unknown);

const INDEX = /^(0|[1-9][0-9]*)$/;

function isScalar(value: unknown): value is string | number | boolean | bigint | null {
  return value === null || ['string', 'number', 'boolean', 'bigint'].includes(typeof value);
}

/** Own properties only, so `constructor` / `__proto__` never resolve to something. */
function childOf(value: unknown, key: string): unknown {
  if (Array.isArray(value)) return INDEX.test(key) && Number(key) < value.length ? value[Number(key)] : undefined;
  if (typeof value === 'object' && value !== null && Object.hasOwn(value, key)) {
    return (value as Record<string, unknown>)[key];
  }
  return undefined;
}

const labelOf = (path: readonly string[]) => (path.length > 0 ? path.join('.') : 'SECURITY_CONTEXT');

function notAValue(path: readonly string[]): EngineError {
  return new EngineError(
    'ERR_AUTH_CONTEXT_INVALID',
    `Security context value ${labelOf(path)} is an object, not a value a row filter can bind`,
  );
}

/** Scalars and arrays of scalars become placeholders; objects fail closed. */
function placeholders(ctx: SqlRenderContext, value: unknown, path: readonly string[]): string | string[] {
  if (Array.isArray(value)) {
    return value.map((item) => {
      if (!isScalar(item)) throw notAValue(path);
      return ctx.param(item);
    });
  }
  if (!isScalar(value)) throw notAValue(path);
  return ctx.param(value);
}

function checkColumn(column: unknown, method: string): asserts column is Column {
  if (typeof column !== 'string' && typeof column !== 'function') {
    throw new ModelError(`${method}() needs a column name or a function`);
  }
}

function renderFilter(ctx: SqlRenderContext, value: unknown, path: readonly string[], column: unknown, required: boolean): string {
  const method = required ? 'requiredFilter' : 'filter';
  checkColumn(column, method);
  if (isRecorder(ctx)) ctx.recordSecurityFilter(path, required);
  if (value === undefined) {
    if (!required) return '1 = 1';
    // The start-up render has no context: render a required filter as if it were present.
    if (!(ctx instanceof ValidationContext)) {
      const name = typeof column === 'string' ? column : labelOf(path);
      throw new EngineError('ERR_QUERY_FILTER_REQUIRED', `Filter for ${name} is required`);
    }
    value = null;
  }
  const bound = placeholders(ctx, value, path);
  if (typeof column === 'function') return String(column(bound));
  if (Array.isArray(bound)) return bound.length === 0 ? '1 = 0' : `${column} IN (${bound.join(', ')})`;
  return `${column} = ${bound}`;
}

/** `${SECURITY_CONTEXT.x}`: the placeholder(s); absent or empty binds NULL, which matches nothing. */
function renderDirect(ctx: SqlRenderContext, value: unknown, path: readonly string[]): string {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return ctx.param(null);
  const bound = placeholders(ctx, value, path);
  return Array.isArray(bound) ? bound.join(', ') : bound;
}

function contextNode(ctx: SqlRenderContext, value: unknown, path: readonly string[]): unknown {
  const direct = () => renderDirect(ctx, value, path);
  const methods: Record<string, unknown> = {
    filter: (column: unknown) => renderFilter(ctx, value, path, column, false),
    requiredFilter: (column: unknown) => renderFilter(ctx, value, path, column, true),
    unsafeValue: () => {
      if (ctx instanceof ValidationContext) ctx.usedUnsafeValue = true;
      else if (value === undefined && !missingClaimsAllowed(ctx.securityContext)) {
        // Model JavaScript over a missing claim would otherwise decide on `undefined`, typically matching all rows.
        throw new EngineError(
          'ERR_AUTH_CLAIMS_MISSING',
          `Access denied: the security context has no claim ${labelOf(path)}, which the model reads with unsafeValue()`,
        );
      }
      return value;
    },
  };
  return new Proxy(Object.create(null) as object, {
    get(_target, prop) {
      if (prop === Symbol.toPrimitive || prop === 'toString' || prop === 'valueOf') return direct;
      if (typeof prop !== 'string') return undefined;
      // Method names shadow context keys of the same name, as in Cube.
      if (Object.hasOwn(methods, prop)) return methods[prop];
      return contextNode(ctx, childOf(value, prop), [...path, prop]);
    },
  });
}

/** The context variable for one render, over `ctx.securityContext`. */
export function securityContextProxy(ctx: SqlRenderContext): unknown {
  return contextNode(ctx, ctx.securityContext, []);
}
