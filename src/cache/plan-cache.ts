/**
 * Prepared /load requests kept per app by query *shape*: a request that differs from one seen
 * before only in its filter values reuses that preparation and re-binds the values.
 *
 * The shape is the decoded query with each re-bindable filter value replaced by a placeholder
 * naming its JSON type and class (number; numeric-, boolean-, date-looking or other string).
 * Re-bindable values are the strings and numbers of `equals, notEquals, in, notIn, gt, gte, lt,
 * lte` and, when they hold no LIKE wildcard or backslash, of the LIKE operators; every other
 * value (null, booleans, wildcards, date operators, set/notSet) stays in the shape verbatim. The
 * key is the shape plus everything the preparation reads besides the query: `auth.via`, the whole
 * security context and the raw context (the model and config are this cache's own, per router).
 *
 * Why re-binding equals preparing from scratch. After decoding, preparing reads a re-bindable
 * value in exactly these places, all found by reading validate → policies → views → plan → render:
 *  1. zod: its JSON type (in the key) and a NUL character (such queries are never cached);
 *  2. validate: `normaliseValues` (`String(v)`), then `checkValueTypes` (numbers, booleans or
 *     timestamps for such members); the re-bind path runs those same two functions, in the same
 *     order as a fresh validation would (leaf by leaf, query by query), so it fails alike;
 *  3. render: `FILTER_SQL` and `filterParam` hand the normalised value to `param()` unchanged,
 *     except `escapeLike` (identity on the wildcard-free values that get placeholders) and
 *     `localToUtc` for time members, whose shapes are never re-bound (checked on first sight).
 * Nothing else looks at a value (policies read member names and the context; plans are value
 * free), so preparing is parametric in these values: the output is one template with the
 * normalised values at fixed positions. The proof checks that claim instead of trusting it. A
 * shape met for the first time is only prepared and kept by its exact text (one-off queries cost
 * one preparation); when it comes back with new values it is prepared with those values and again with distinct sentinels of the same
 * classes, and kept as re-bindable only if the two outputs are equal everywhere (SQL text,
 * columns, plans, read sets, echoed queries, settings) except at positions holding a real value
 * in one and its own sentinel in the other. Those positions (params, query and cubeQuery filter
 * values, pivotQuery, plan filters) are all the template needs re-bound; a value never reaches
 * the SQL text, since the texts were equal. Any other difference, or a failing sentinel run,
 * marks the shape fixed: it is then memoised only by its exact text, as before. A failed
 * preparation is never kept. Clock-dependent queries (anything naming a date: relative ranges,
 * date operators, compareDateRange) and queries over 8 KB are never cached, nor is anything when
 * a config hook (queryRewrite, contextToGroups) takes part.
 */
import { LRUCache } from 'lru-cache';
import type { AuthResult } from '../auth/auth-result.js';
import { checkValueTypes, COMPARE_OPS, findMember, LIKE_OPS, normaliseValues } from '../query/validate-query.js';
import { cubeOf, nameOf, type FilterOperator } from '../query/validated-query.js';
import type { Dimension, Measure, Model } from '../schema/model.js';

export interface PlanCache<P> {
  /** `run(query)` once on a shape's first sight, twice more when it comes back with new values (the proof), then never; failures are not kept, so a bad request fails again in full. */
  prepare(query: unknown, auth: AuthResult, run: (query: unknown) => Promise<P>): Promise<P>;
  /** Counters, for tests and diagnostics. */
  stats(): PlanCacheStats;
}

export interface PlanCacheStats {
  /** Shapes met for the first time (prepared once, kept by exact text). */
  readonly seenOnce: number;
  /** Shapes proved when they came back with new values (prepared with real and sentinel values). */
  readonly firstSights: number;
  /** Requests answered from a shape's template, values re-bound. */
  readonly rebinds: number;
  /** Requests of a fixed shape answered from the exact-text memo. */
  readonly exactHits: number;
  /** Shapes found not re-bindable. */
  readonly fixedShapes: number;
}

export interface PlanCacheOptions {
  readonly maxEntries: number;
  /** False when a config hook (queryRewrite, contextToGroups) takes part in preparing. */
  readonly enabled: boolean;
  /** The model the router prepares against: filter members are looked up in it. */
  readonly model: Model;
}

// Date filters and ranges may be relative ("last 7 days"), so their SQL values depend on the clock.
const CLOCK_DEPENDENT = /date/i;
// Dashboards repeat small queries; a huge one (thousands of filter values) would hold megabytes per entry.
const MAX_QUERY_CHARS = 8192;
const LIKE_SPECIAL = /[\\%_]/;
const NUMERIC = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
const BOOLEAN_WORD = /^(true|false)$/i;
const DATE_LOOKING = /^\d{4}-\d{2}-\d{2}/;

type ValueClass = 'n' | 's#' | 'sb' | 'sd' | 's';

interface Slot {
  readonly value: string | number;
  readonly cls: ValueClass;
}

/** A filter leaf with at least one placeholder, in the order validation visits it. */
interface LeafRef {
  readonly name: string;
  readonly operator: FilterOperator;
  /** The leaf's raw values in the request (placeholders' real values included). */
  readonly values: readonly (string | number | boolean | null)[];
}

interface Shape {
  readonly text: string;
  /** About the length of the query's JSON text: the shape's, with each placeholder as long as its value. */
  readonly chars: number;
  /** A placeholder's value holds a NUL character: zod refuses it, and placeholders start with one. */
  readonly nul: boolean;
  readonly slots: readonly Slot[];
  readonly leaves: readonly LeafRef[];
  /** Builds the same query with slot `k` holding `values[k]`. */
  readonly fill: (values: readonly (string | number)[]) => unknown;
}

/** Where a re-bound value goes in the template: child keys down to a slot. */
interface Trie {
  slot?: number;
  readonly children: Map<string | number, Trie>;
}

interface Rebindable<P> {
  readonly kind: 'rebind';
  readonly template: P;
  readonly trie: Trie;
  /** Per placeholder leaf (same order as `Shape.leaves`): the member validation checks values against. */
  readonly members: readonly (Measure | Dimension)[];
}
/** `seen`: a shape met once, not yet proved (most one-off queries never come back, so they cost one preparation). */
type Entry<P> = Rebindable<P> | { readonly kind: 'seen' } | { readonly kind: 'fixed' } | { readonly kind: 'exact'; readonly prepared: P };

function classOf(v: string | number): ValueClass {
  if (typeof v === 'number') return 'n';
  if (NUMERIC.test(v.trim())) return 's#';
  if (BOOLEAN_WORD.test(v)) return 'sb';
  if (DATE_LOOKING.test(v)) return 'sd';
  return 's';
}

/**
 * JSON text of `v`, or undefined when JSON text cannot stand for it: a non-finite number (JSON.parse
 * reads 1e400 as Infinity, which JSON.stringify writes as null, so it would share null's key) or a
 * BigInt (which JSON.stringify refuses).
 */
function faithfulJson(v: unknown): string | undefined {
  let lossy = false;
  try {
    const text = JSON.stringify(v, (_key, x: unknown) => {
      if (typeof x === 'number' && !Number.isFinite(x)) lossy = true;
      return x;
    });
    return lossy ? undefined : text;
  } catch {
    return undefined;
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

/** The query with re-bindable values replaced by placeholders; the same walk re-fills it. */
function shapeOf(decoded: unknown): Shape | undefined {
  const slots: Slot[] = [];
  const leaves: LeafRef[] = [];
  // Each placeholder site, so `fill` can write new values where the real ones were.
  const sites: { readonly values: unknown[]; readonly index: number }[] = [];
  let valueChars = 0;
  let nul = false;

  const walkFilter = (f: unknown): unknown => {
    if (!isPlainObject(f)) return f;
    if (Array.isArray(f.and) || Array.isArray(f.or)) {
      const out: Record<string, unknown> = { ...f };
      if (Array.isArray(f.and)) out.and = f.and.map(walkFilter);
      if (Array.isArray(f.or)) out.or = f.or.map(walkFilter);
      return out;
    }
    const op = f.operator;
    if (typeof op !== 'string' || !Array.isArray(f.values)) return f;
    const like = (LIKE_OPS as readonly string[]).includes(op);
    if (!like && !(COMPARE_OPS as readonly string[]).includes(op)) return f;
    // As validation reads it; a leaf without a member name is refused there, so it keeps its values.
    const name = typeof f.member === 'string' ? f.member : f.dimension;
    if (typeof name !== 'string') return f;
    const raw = f.values as unknown[];
    const values: unknown[] = [];
    let placed = 0;
    for (const v of raw) {
      const bindable = (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && !(like && LIKE_SPECIAL.test(v)));
      if (!bindable) {
        values.push(v);
        continue;
      }
      if (typeof v === 'string') {
        valueChars += v.length;
        nul ||= v.includes('\u0000');
      } else valueChars += 24;
      const cls = classOf(v as string | number);
      sites.push({ values, index: values.length });
      values.push(`\u0000${cls}`);
      slots.push({ value: v as string | number, cls });
      placed += 1;
    }
    if (placed === 0) return f;
    leaves.push({ name, operator: op as FilterOperator, values: raw as LeafRef['values'] });
    return { ...f, values };
  };
  const walkQuery = (q: unknown): unknown => (isPlainObject(q) && Array.isArray(q.filters) ? { ...q, filters: q.filters.map(walkFilter) } : q);

  const shape = Array.isArray(decoded) ? decoded.map(walkQuery) : walkQuery(decoded);
  const text = faithfulJson(shape);
  if (text === undefined) return undefined;
  const fill = (values: readonly (string | number)[]): unknown => {
    sites.forEach((s, k) => (s.values[s.index] = values[k]));
    const filled = JSON.parse(JSON.stringify(shape)) as unknown;
    sites.forEach((s, k) => (s.values[s.index] = `\u0000${(slots[k] as Slot).cls}`));
    return filled;
  };
  return { text, chars: text.length + valueChars, nul, slots, leaves, fill };
}

/** Distinct stand-ins of each slot's class, none equal to any real value; undefined if the class runs out. */
function sentinelsFor(slots: readonly Slot[]): (string | number)[] | undefined {
  const taken = new Set(slots.map((s) => String(s.value)));
  const words = ['true', 'false'].flatMap((w) =>
    Array.from({ length: 2 ** w.length }, (_, bits) => [...w].map((c, i) => ((bits >> i) & 1 ? c.toUpperCase() : c)).join('')),
  );
  const out: (string | number)[] = [];
  for (const [k, s] of slots.entries()) {
    const candidates: (string | number)[] =
      s.cls === 'n' ? [987654321.5 + k, 876543210.25 + k]
      : s.cls === 's#' ? [`${987654321 + k}.75`, `${876543210 + k}.125`]
      : s.cls === 'sb' ? words
      : s.cls === 'sd' ? [`2999-12-31 sentinel ${k}`, `2998-11-30 sentinel ${k}`]
      : [`tessera sentinel ${k}`, `tessera stand-in ${k}`];
    const pick = candidates.find((c) => !taken.has(String(c)));
    if (pick === undefined) return undefined;
    taken.add(String(pick));
    out.push(pick);
  }
  return out;
}

/**
 * Compares the real and the sentinel preparations; returns where each slot's normalised value
 * sits, or undefined when anything else differs.
 */
function valuePositions(real: unknown, stand: unknown, reals: readonly string[], sentinels: ReadonlyMap<string, number>): Trie | undefined {
  const root: Trie = { children: new Map() };
  const path: (string | number)[] = [];
  const place = (slot: number): void => {
    let node = root;
    for (const key of path) {
      let next = node.children.get(key);
      if (!next) {
        next = { children: new Map() };
        node.children.set(key, next);
      }
      node = next;
    }
    node.slot = slot;
  };
  const same = (a: unknown, b: unknown): boolean => {
    if (Object.is(a, b)) return true;
    if (typeof a === 'string' && typeof b === 'string') {
      const k = sentinels.get(b);
      if (k === undefined || reals[k] !== a) return false;
      place(k);
      return true;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      if (a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) {
        path.push(i);
        const ok = same(a[i], b[i]);
        path.pop();
        if (!ok) return false;
      }
      return true;
    }
    // Only plain data is compared; anything else must be the very same object in both (model parts).
    if (!isPlainObject(a) || !isPlainObject(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    if (Object.getOwnPropertySymbols(a).length > 0 || Object.getOwnPropertySymbols(b).length > 0) return false;
    const keys = Object.keys(a);
    const other = Object.keys(b);
    if (keys.length !== other.length || keys.some((key, i) => other[i] !== key)) return false;
    for (const key of keys) {
      path.push(key);
      const ok = same(a[key], b[key]);
      path.pop();
      if (!ok) return false;
    }
    return true;
  };
  return same(real, stand) ? root : undefined;
}

/** The slots a trie places. */
function slotsIn(trie: Trie, into = new Set<number>()): Set<number> {
  if (trie.slot !== undefined) into.add(trie.slot);
  for (const child of trie.children.values()) slotsIn(child, into);
  return into;
}

/** The template with each slot's position holding `values[slot]`, copying only the containers on the way. */
function rebind(node: unknown, trie: Trie, values: readonly string[]): unknown {
  if (trie.slot !== undefined) return values[trie.slot];
  if (trie.children.size === 0) return node;
  const copy = (Array.isArray(node) ? [...(node as unknown[])] : { ...(node as Record<string, unknown>) }) as Record<string | number, unknown>;
  for (const [key, child] of trie.children) copy[key] = rebind((node as Record<string | number, unknown>)[key], child, values);
  return Object.isFrozen(node) ? Object.freeze(copy) : copy;
}

/** The model member a leaf's values are validated against; undefined when its shape must not be re-bound. */
function checkedMember(model: Model, name: string): Measure | Dimension | undefined {
  const member = findMember(model, name);
  if (member.kind === 'segment' || member.type === 'time') return undefined;
  // A view member renders through the cube member it exposes: that one's type decides the SQL.
  const target = model.cubes.get(cubeOf(name))?.viewMembers?.get(nameOf(name));
  if (target) {
    const behind = findMember(model, `${target.cube}.${target.member}`);
    if (behind.kind === 'segment' || behind.type === 'time') return undefined;
  }
  return member;
}

export function createPlanCache<P extends object>(opts: PlanCacheOptions): PlanCache<P> {
  const lru = new LRUCache<string, Entry<P>>({ max: opts.maxEntries });
  const counts = { seenOnce: 0, firstSights: 0, rebinds: 0, exactHits: 0, fixedShapes: 0 };

  /** The exact-text key of a query the memo may keep, or undefined (too large, clock-dependent). */
  const exactKey = (query: unknown, contextKey: string): string | undefined => {
    const text = typeof query === 'string' ? query : faithfulJson(query);
    if (text === undefined || text.length > MAX_QUERY_CHARS || CLOCK_DEPENDENT.test(text)) return undefined;
    // Both parts are JSON text (or the query string as sent, last), so the separator is unambiguous.
    return `x${contextKey}\u0001${text}`;
  };

  const exact = async (query: unknown, contextKey: string, run: (q: unknown) => Promise<P>): Promise<P> => {
    const key = exactKey(query, contextKey);
    if (key === undefined) return run(query);
    const held = lru.get(key);
    if (held?.kind === 'exact') {
      counts.exactHits += 1;
      return held.prepared;
    }
    const prepared = await run(query);
    lru.set(key, { kind: 'exact', prepared });
    return prepared;
  };

  /** Prepares a new shape with real and sentinel values and decides whether it re-binds. */
  const firstSight = async (shape: Shape, query: unknown, run: (q: unknown) => Promise<P>): Promise<{ prepared: P; entry: Entry<P> }> => {
    counts.firstSights += 1;
    const prepared = await run(query);
    const fixed = { prepared, entry: { kind: 'fixed' } as const };
    if (shape.slots.length === 0) return { prepared, entry: { kind: 'rebind', template: prepared, trie: { children: new Map() }, members: [] } };
    const members: (Measure | Dimension)[] = [];
    for (const leaf of shape.leaves) {
      let member: Measure | Dimension | undefined;
      try {
        member = checkedMember(opts.model, leaf.name);
      } catch {
        member = undefined;
      }
      if (!member) return fixed;
      members.push(member);
    }
    const sentinels = sentinelsFor(shape.slots);
    if (!sentinels) return fixed;
    let stand: P;
    try {
      stand = await run(shape.fill(sentinels));
    } catch {
      return fixed;
    }
    const reals = shape.slots.map((s) => String(s.value));
    const trie = valuePositions(prepared, stand, reals, new Map(sentinels.map((s, k) => [String(s), k])));
    // Every value must show up somewhere: one that preparing normalised away (mapped both the real
    // value and its sentinel to the same output) would leave the template holding the real one.
    if (!trie || slotsIn(trie).size !== shape.slots.length) return fixed;
    return { prepared, entry: { kind: 'rebind', template: prepared, trie, members } };
  };

  return {
    async prepare(query, auth, run) {
      if (!opts.enabled) return run(query);
      const contextKey = faithfulJson([auth.via, auth.securityContext, auth.rawContext]);
      if (contextKey === undefined) return run(query);
      // A GET query string is decoded by the pipeline; only decoded queries are shaped.
      const shape = typeof query === 'string' ? undefined : shapeOf(query);
      if (!shape || shape.chars > MAX_QUERY_CHARS || shape.nul || CLOCK_DEPENDENT.test(shape.text)) return exact(query, contextKey, run);
      // Both parts are JSON text, which escapes every control character, so the separator is unambiguous.
      const key = `s${contextKey}\u0001${shape.text}`;
      const held = lru.get(key);
      if (held === undefined && shape.slots.length > 0) {
        // First sight: prepared once and kept by exact text; the proof waits for the shape to come back.
        const prepared = await exact(query, contextKey, run);
        lru.set(key, { kind: 'seen' });
        counts.seenOnce += 1;
        return prepared;
      }
      if (held === undefined || held.kind === 'seen') {
        // The same text again is an exact hit; new values make the shape worth proving.
        const exactAt = exactKey(query, contextKey);
        const same = exactAt === undefined ? undefined : lru.get(exactAt);
        if (same?.kind === 'exact') {
          counts.exactHits += 1;
          return same.prepared;
        }
        const { prepared, entry } = await firstSight(shape, query, run);
        lru.set(key, entry);
        if (entry.kind === 'fixed') {
          counts.fixedShapes += 1;
          const exactAt = exactKey(query, contextKey);
          if (exactAt !== undefined) lru.set(exactAt, { kind: 'exact', prepared });
        }
        return prepared;
      }
      if (held.kind !== 'rebind') return exact(query, contextKey, run);
      // The value checks validation makes, in its order, so a bad value fails as it would fresh.
      held.members.forEach((member, i) => {
        const leaf = shape.leaves[i] as LeafRef;
        checkValueTypes(member, leaf.operator, normaliseValues(leaf.values));
      });
      counts.rebinds += 1;
      if (held.trie.children.size === 0) return held.template;
      return rebind(held.template, held.trie, normaliseValues(shape.slots.map((s) => s.value)) as string[]) as P;
    },
    stats: () => ({ ...counts }),
  };
}
