/**
 * API keys in the metadata schema. Only the SHA-256 of a key is stored, with
 * `tsk_` and its first 8 hex digits for display; the full key is returned once.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { Knex } from 'knex';
import type { ApiScope } from '../auth/auth-result.js';
import { API_KEY_PREFIX } from '../auth/api-key-authenticator.js';
import type { SecurityContext } from '../schema/model.js';
import { META_TABLES } from './migrate-operator-schema.js';

/** `tsk_` + 32 lower-case hex characters. */
export const API_KEY_PATTERN = /^tsk_[0-9a-f]{32}$/;
/** `key_` + 10 lower-case alphanumerics. */
export const API_KEY_ID_PATTERN = /^key_[0-9a-z]{10}$/;
/** `tsk_` and 8 hex digits (32 bits): enough to tell keys apart, too little to help guess one. */
export const KEY_DISPLAY_PREFIX_LENGTH = 12;

/** What a list or a log may show of a key; older rows stored a longer prefix. */
export const displayPrefix = (prefix: string): string => prefix.slice(0, KEY_DISPLAY_PREFIX_LENGTH);

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly keyHash: string;
  readonly scopes: readonly ApiScope[];
  readonly securityContext: SecurityContext;
  /** Created with `allTenants: true`: missing claims match all rows for this key. */
  readonly allTenants: boolean;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
  readonly expiresAt: Date | null;
}

export interface NewApiKey {
  readonly name: string;
  readonly scopes: readonly ApiScope[];
  readonly securityContext: SecurityContext;
  readonly allTenants?: boolean | undefined;
  readonly expiresAt: Date | null;
}

export interface ApiKeyStore {
  /** Creates a key and returns its record with the full key, which is never readable again. */
  create(input: NewApiKey, now: Date): Promise<{ readonly record: ApiKeyRecord; readonly key: string }>;
  list(page: { readonly limit: number; readonly offset: number }): Promise<{ readonly keys: readonly ApiKeyRecord[]; readonly total: number }>;
  /** Sets `revoked_at`; false when the key is unknown or already revoked. */
  revoke(id: string, now: Date): Promise<boolean>;
  findByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  /** Records a use, at most once a minute per key so busy keys do not write on every request. */
  touch(id: string, now: Date): Promise<void>;
}

export const hashApiKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

export function newApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(16).toString('hex')}`;
}

export function newApiKeyId(): string {
  let id = 'key_';
  for (let i = 0; i < 10; i += 1) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

interface Row {
  id: string;
  name: string;
  key_hash: string;
  key_prefix: string;
  scopes: ApiScope[];
  security_context: SecurityContext;
  all_tenants: boolean;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
  expires_at: Date | null;
  seq: string;
}

const toRecord = (row: Row): ApiKeyRecord =>
  Object.freeze({
    id: row.id,
    name: row.name,
    prefix: displayPrefix(row.key_prefix),
    keyHash: row.key_hash,
    scopes: Object.freeze([...row.scopes]),
    securityContext: deepFreeze(row.security_context),
    allTenants: row.all_tenants === true,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    expiresAt: row.expires_at,
  });

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export function createApiKeyStore(knex: Knex, schema: string): ApiKeyStore {
  const keys = () => knex.withSchema(schema).table(META_TABLES.apiKeys);

  return {
    async create(input, now) {
      const key = newApiKey();
      const rows = (await keys()
        .insert({
          id: newApiKeyId(),
          name: input.name,
          key_hash: hashApiKey(key),
          key_prefix: key.slice(0, KEY_DISPLAY_PREFIX_LENGTH),
          scopes: [...input.scopes],
          // jsonb through a JSON string, so arrays and nested objects keep their shape.
          security_context: JSON.stringify(input.securityContext),
          all_tenants: input.allTenants === true,
          created_at: now,
          expires_at: input.expiresAt,
        })
        .returning('*')) as Row[];
      return { record: toRecord(rows[0]!), key };
    },

    async list({ limit, offset }) {
      const [rows, count] = await Promise.all([
        keys().select('*').orderBy([{ column: 'created_at', order: 'desc' }, { column: 'seq', order: 'desc' }]).limit(limit).offset(offset) as Promise<Row[]>,
        keys().count<{ count: string }[]>({ count: '*' }),
      ]);
      return { keys: rows.map(toRecord), total: Number(count[0]?.count ?? 0) };
    },

    async revoke(id, now) {
      const updated = await keys().where({ id }).whereNull('revoked_at').update({ revoked_at: now });
      return updated === 1;
    },

    async findByHash(keyHash) {
      const row = (await keys().where({ key_hash: keyHash }).first('*')) as Row | undefined;
      return row === undefined ? undefined : toRecord(row);
    },

    async touch(id, now) {
      await keys()
        .where({ id })
        .andWhere((q) => q.whereNull('last_used_at').orWhere('last_used_at', '<', new Date(now.getTime() - 60_000)))
        .update({ last_used_at: now });
    },
  };
}
