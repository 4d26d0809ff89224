/**
 * Which claims a cube's row filters read, found once per cube by rendering its source SQL
 * with a recording context, and the refusal when a context lacks all of them.
 */
import { EngineError } from '../errors/engine-error.js';
import type { Cube, Model, SecurityContext } from '../schema/model.js';
import type { SecurityFilterRecorder } from '../schema/security-context-proxy.js';
import { ValidationContext } from '../schema/validation-context.js';

/** A claim path such as `['tenant_id']` or `['u', 'id']`. */
export type ClaimPath = readonly string[];

class ClaimRecorder extends ValidationContext implements SecurityFilterRecorder {
  readonly optional: ClaimPath[] = [];
  readonly required: ClaimPath[] = [];

  recordSecurityFilter(path: readonly string[], required: boolean): void {
    (required ? this.required : this.optional).push(Object.freeze([...path]));
  }
}

export interface CubeClaims {
  /** Claims read by `.filter()`, which renders `1 = 1` when its claim is missing. */
  readonly optional: readonly ClaimPath[];
  /** Claims read by `.requiredFilter()`, which refuses by itself. */
  readonly required: readonly ClaimPath[];
}

const NONE: CubeClaims = Object.freeze({ optional: Object.freeze([]), required: Object.freeze([]) });
const cache = new WeakMap<Cube, CubeClaims>();

/** The claims the security filters of `cube`'s source SQL read (views have no source: none). */
export function cubeClaims(cube: Cube): CubeClaims {
  const known = cache.get(cube);
  if (known !== undefined) return known;
  let claims = NONE;
  if (cube.kind === 'cube') {
    const recorder = new ClaimRecorder();
    try {
      cube.source.sql(recorder);
    } catch {
      // The load-time render already passed; a source that only fails without real claims keeps what it recorded.
    }
    claims = Object.freeze({ optional: dedupe(recorder.optional), required: dedupe(recorder.required) });
  }
  cache.set(cube, claims);
  return claims;
}

function dedupe(paths: readonly ClaimPath[]): readonly ClaimPath[] {
  const seen = new Map<string, ClaimPath>();
  for (const p of paths) seen.set(p.join('\u0000'), p);
  return Object.freeze([...seen.values()]);
}

/** Own properties only, as the context proxy reads them, so `__proto__` and `constructor` are never claims. */
export function claimValue(context: SecurityContext, path: ClaimPath): unknown {
  let value: unknown = context;
  for (const key of path) {
    if (Array.isArray(value)) value = /^(0|[1-9][0-9]*)$/.test(key) ? value[Number(key)] : undefined;
    else if (typeof value === 'object' && value !== null && Object.hasOwn(value, key)) value = (value as Record<string, unknown>)[key];
    else return undefined;
  }
  return value;
}

export const claimLabel = (path: ClaimPath): string => path.join('.');

/**
 * Throws `ERR_AUTH_CLAIMS_MISSING` (403) for the first cube in `cubes` whose every `.filter()`
 * claim is missing from `context`, since each of its row filters would then match every row.
 * A cube with at least one present claim passes: an optional filter inside a present one is Cube's idiom.
 */
export function checkSecurityFilterClaims(model: Model, cubes: Iterable<string>, context: SecurityContext): void {
  for (const name of cubes) {
    const cube = model.cubes.get(name);
    if (cube === undefined) continue;
    const { optional } = cubeClaims(cube);
    if (optional.length === 0) continue;
    if (optional.some((path) => claimValue(context, path) !== undefined)) continue;
    const labels = optional.map(claimLabel).join(', ');
    throw new EngineError(
      'ERR_AUTH_CLAIMS_MISSING',
      `Access denied: cube ${cube.name} filters its rows by the security context claims ${labels}, and this security context has none of them`,
    );
  }
}

/** Every claim path the model's security filters read, for the start-up check against securityContextSchema. */
export function modelClaims(model: Model): ReadonlyMap<string, readonly ClaimPath[]> {
  const out = new Map<string, readonly ClaimPath[]>();
  for (const cube of model.cubes.values()) {
    const { optional, required } = cubeClaims(cube);
    if (optional.length + required.length > 0) out.set(cube.name, [...optional, ...required]);
  }
  return out;
}
