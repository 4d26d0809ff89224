/**
 * The result cache key: a digest of everything that decides a statement's answer. Never the
 * request text (Cube issue #4129): two contexts share an entry only when PostgreSQL would run
 * the very same statement with the very same values and session settings.
 */
import { createHash } from 'node:crypto';
import type { CompiledSql } from '../db/database.js';

export interface ResultKeyParts {
  readonly sql: string;
  readonly params: readonly unknown[];
  readonly settings?: CompiledSql['settings'];
  readonly dataSource: string;
  /** The compiled model's version (`Model.version`). */
  readonly modelVersion: string;
  /** The refresh_key state of the cubes the statement reads. */
  readonly refreshState: string;
}

/** A type-tagged, order-stable text of a bound value, so `1` and `'1'` never collide. */
export function encodeValue(value: unknown): string {
  if (value === null) return 'n';
  switch (typeof value) {
    case 'undefined':
      return 'u';
    case 'string':
      return `s${JSON.stringify(value)}`;
    case 'number':
      return `d${Object.is(value, -0) ? '-0' : String(value)}`;
    case 'bigint':
      return `i${value.toString()}`;
    case 'boolean':
      return value ? 'T' : 'F';
    case 'object': {
      if (value instanceof Date) return `t${Number.isNaN(value.getTime()) ? 'NaN' : value.toISOString()}`;
      if (value instanceof Uint8Array) return `x${Buffer.from(value).toString('hex')}`;
      if (Array.isArray(value)) return `[${value.map(encodeValue).join(',')}]`;
      const entries = Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${encodeValue((value as Record<string, unknown>)[k])}`);
      return `{${entries.join(',')}}`;
    }
    default:
      // Functions and symbols never reach pg as values; a key that cannot be built must not be shared.
      throw new TypeError(`a ${typeof value} cannot be part of a result cache key`);
  }
}

/** The hex SHA-256 of the key parts; every part is length-delimited by JSON, so no two tuples collide. */
export function resultCacheKey(parts: ResultKeyParts): string {
  const text = JSON.stringify([
    'tessera-result-v1',
    parts.sql,
    parts.params.map(encodeValue),
    // Every settings field, not only the known ones, so a new session setting can never be left out.
    parts.settings ? encodeValue(parts.settings) : null,
    parts.dataSource,
    parts.modelVersion,
    parts.refreshState,
  ]);
  return createHash('sha256').update(text).digest('hex');
}
