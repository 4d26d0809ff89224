/**
 * What each cube of a model reads from the database, found by rendering its
 * source once with a probing context: the tables named after FROM / JOIN, and
 * the plain `column = <claim>` equalities its security filters bind.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Cube, Model, SecurityContext } from '../../schema/model.js';
import { ValidationContext } from '../../schema/validation-context.js';

export interface CubeSource {
  readonly cube: string;
  /** Table names as written in the model (`public.orders`, `orders`). */
  readonly tables: readonly string[];
  /** Claim path (`tenant_id`, `u.id`) → column name, for each plain equality found. */
  readonly claimEqualities: readonly { readonly claim: string; readonly column: string }[];
  /** Claims whose values the cube's own SQL binds (its model-level row filter). */
  readonly claimsBound: readonly string[];
}

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)`;
const TABLE_AFTER = new RegExp(String.raw`\b(?:from|join)\s+(${IDENT}(?:\s*\.\s*${IDENT})?)(?![\w$"]|\s*[.(])`, 'gi');
const EQUALITY = new RegExp(String.raw`(${IDENT}(?:\s*\.\s*${IDENT})?)\s*=\s*\$(\d+)\b`, 'g');
const CONTEXT_PATH = /\b(?:SECURITY_CONTEXT|securityContext|security_context|USER_CONTEXT)((?:\.[A-Za-z_$][\w$]*)+)/g;
const NOT_CLAIM = new Set(['filter', 'requiredFilter', 'unsafeValue', 'required_filter', 'unsafe_value']);
const SQL_WORDS = new Set(['select', 'lateral', 'unnest', 'only']);

/** A render context whose security context holds a marker per claim, and which records bound values. */
class ProbeContext extends ValidationContext {
  override readonly securityContext: SecurityContext;
  readonly values: unknown[] = [];

  constructor(context: SecurityContext) {
    super();
    this.securityContext = context;
  }

  override param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

function readModelFile(fileName: string): string {
  try {
    return readFileSync(path.resolve(fileName), 'utf8');
  } catch {
    return '';
  }
}

const marker = (claim: string): string => `\u0000claim:${claim}\u0000`;

/** Claim paths a cube's templates mention (`SECURITY_CONTEXT.tenant_id.filter(…)` → `tenant_id`). */
function mentionedClaims(cube: Cube): string[] {
  // Templates are compiled closures, so the claims are read from the model file's text.
  const texts = [readModelFile(cube.fileName)];
  for (const policy of cube.accessPolicy ?? []) {
    if (policy.rowLevel && 'filters' in policy.rowLevel) texts.push(String(policy.rowLevel.filters));
  }
  const found = new Set<string>();
  for (const text of texts) {
    for (const m of text.matchAll(CONTEXT_PATH)) {
      const parts = (m[1] ?? '').split('.').filter((p) => p !== '');
      const end = parts.findIndex((p) => NOT_CLAIM.has(p));
      const path = (end === -1 ? parts : parts.slice(0, end)).join('.');
      if (path !== '') found.add(path);
    }
  }
  return [...found];
}

/** A context with a marker string at every claim path (`u.id` nests). */
function markerContext(claims: readonly string[]): SecurityContext {
  const root: Record<string, unknown> = {};
  for (const claim of claims) {
    const parts = claim.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (typeof next !== 'object' || next === null) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1] as string;
    if (typeof node[last] !== 'object') node[last] = marker(claim);
  }
  return root;
}

const unquote = (ident: string): string => (ident.startsWith('"') ? ident.slice(1, -1).replace(/""/g, '"') : ident);
const LAST_IDENT = new RegExp(`${IDENT}$`);
const lastPart = (name: string): string => unquote(LAST_IDENT.exec(name)?.[0] ?? name);

/** The tables and claim equalities of every cube (views read through their cubes). */
export function modelSources(model: Model, extraClaims: readonly string[] = []): CubeSource[] {
  const out: CubeSource[] = [];
  for (const cube of model.cubes.values()) {
    if (cube.kind !== 'cube') continue;
    const claims = [...new Set([...mentionedClaims(cube), ...extraClaims])];
    const ctx = new ProbeContext(markerContext(claims));
    let sql: string;
    try {
      sql = cube.source.sql(ctx);
    } catch {
      // A template that cannot render without a real context is reported with no tables.
      out.push({ cube: cube.name, tables: [], claimEqualities: [], claimsBound: [] });
      continue;
    }
    const text = cube.source.kind === 'table' ? `FROM ${sql}` : sql;
    const tables = new Set<string>();
    for (const m of text.matchAll(TABLE_AFTER)) {
      const name = (m[1] ?? '').replace(/\s+/g, '');
      if (!SQL_WORDS.has(name.toLowerCase())) tables.add(name);
    }
    const equalities: { claim: string; column: string }[] = [];
    const claimOf = (value: unknown): string | undefined =>
      typeof value === 'string' && value.startsWith('\u0000claim:') ? value.slice(7, -1) : undefined;
    for (const m of sql.matchAll(EQUALITY)) {
      const claim = claimOf(ctx.values[Number(m[2]) - 1]);
      if (claim) equalities.push({ claim, column: lastPart(m[1] ?? '') });
    }
    for (const eq of accessPolicyEqualities(cube, model, ctx)) equalities.push(eq);
    const claimsBound = [...new Set(ctx.values.map(claimOf).filter((c): c is string => c !== undefined))];
    out.push({ cube: cube.name, tables: [...tables], claimEqualities: dedupeEqualities(equalities), claimsBound });
  }
  return out;
}

/** `rowLevel.filters` entries of the form `{member, operator: 'equals', values: [<one claim>]}`. */
function accessPolicyEqualities(cube: Cube, model: Model, ctx: ProbeContext): { claim: string; column: string }[] {
  const out: { claim: string; column: string }[] = [];
  for (const policy of cube.accessPolicy ?? []) {
    if (!policy.rowLevel || !('filters' in policy.rowLevel)) continue;
    let filters: readonly unknown[];
    try {
      filters = policy.rowLevel.filters(ctx.securityContext);
    } catch {
      continue;
    }
    for (const f of filters) {
      const { member, operator, values } = (f ?? {}) as { member?: unknown; operator?: unknown; values?: unknown };
      if (typeof member !== 'string' || operator !== 'equals' || !Array.isArray(values) || values.length !== 1) continue;
      const value = values[0];
      if (typeof value !== 'string' || !value.startsWith('\u0000claim:')) continue;
      const [cubeName, dimName] = member.split('.');
      const dim = model.cubes.get(cubeName ?? '')?.dimensions.get(dimName ?? '');
      if (!dim || cubeName !== cube.name) continue;
      const column = dim.sql(new ProbeContext({})).trim();
      const plain = new RegExp(String.raw`^(?:${IDENT}\s*\.\s*)?${IDENT}$`);
      if (plain.test(column)) out.push({ claim: value.slice(7, -1), column: lastPart(column) });
    }
  }
  return out;
}

function dedupeEqualities(list: readonly { claim: string; column: string }[]): { claim: string; column: string }[] {
  const seen = new Map(list.map((e) => [`${e.claim}\u0000${e.column}`, e]));
  return [...seen.values()];
}
