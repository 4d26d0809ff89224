/**
 * Turns an API key into an AuthResult: the key's bound security context, its
 * scopes, and its id as the subject. Every unusable key gets the same 401.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { ApiKeyAuthenticator } from '../auth/api-key-authenticator.js';
import type { AuthResult } from '../auth/auth-result.js';
import type { Config } from '../config/config.js';
import { classifyDatabaseError } from '../db/create-database.js';
import { EngineError, isEngineError } from '../errors/engine-error.js';
import { API_KEY_PATTERN, createApiKeyStore, hashApiKey, type ApiKeyRecord } from './create-api-key-store.js';
import { metaSchemaName } from './migrate-operator-schema.js';

/** One message for unknown, revoked, expired, malformed and under-scoped keys (Grain's rule). */
export const invalidApiKey = (cause?: unknown): EngineError =>
  new EngineError('ERR_AUTH_INVALID_KEY', 'Invalid API key or insufficient permissions.', cause === undefined ? {} : { cause });

/**
 * A metadata read or write that failed for want of a database is an outage
 * (503/504); anything else is a bug and stays a bare error (500).
 */
export function metadataUnavailable(cause: unknown): unknown {
  if (isEngineError(cause)) return cause;
  const code = classifyDatabaseError(cause);
  if (code === 'ERR_DB_QUERY_FAILED') return cause;
  return new EngineError(code, 'The metadata database is unavailable; try again later.', { cause });
}

export interface ApiKeyAuthenticatorDeps {
  readonly config: Config;
  readonly knex: Knex;
  readonly logger?: Logger | undefined;
  /** Milliseconds since the epoch; injected so expiry is testable. */
  readonly now?: (() => number) | undefined;
}

function usable(record: ApiKeyRecord | undefined, keyHash: string, nowMs: number): record is ApiKeyRecord {
  if (record === undefined) return false;
  // The lookup matched by index; the constant-time comparison keeps the final check free of timing leaks.
  const same = timingSafeEqual(Buffer.from(record.keyHash, 'hex'), Buffer.from(keyHash, 'hex'));
  if (!same || record.revokedAt !== null) return false;
  return record.expiresAt === null || record.expiresAt.getTime() > nowMs;
}

/**
 * Looks every key up in PostgreSQL on every request, so a revocation takes
 * effect at once on every process. In `none` mode no key exists.
 */
export function createApiKeyAuthenticator(deps: ApiKeyAuthenticatorDeps): ApiKeyAuthenticator {
  const store = createApiKeyStore(deps.knex, metaSchemaName(deps.config.operator.metaSchema));
  const now = deps.now ?? Date.now;
  const keysEnabled = deps.config.operator.authMode !== 'none';

  return async (token) => {
    if (!keysEnabled) throw invalidApiKey('API keys are disabled when TESSERA_AUTH=none');
    if (token.length !== 36 || !API_KEY_PATTERN.test(token)) throw invalidApiKey('malformed API key');
    const keyHash = hashApiKey(token);
    const nowMs = now();
    let record: ApiKeyRecord | undefined;
    try {
      record = await store.findByHash(keyHash);
    } catch (e) {
      throw metadataUnavailable(e);
    }
    if (!usable(record, keyHash, nowMs)) throw invalidApiKey('unknown, revoked or expired API key');

    const lastUsed = record.lastUsedAt?.getTime();
    if (lastUsed === undefined || nowMs - lastUsed >= 60_000) {
      // Losing a last-used timestamp must never fail a query.
      await store.touch(record.id, new Date(nowMs)).catch((e: unknown) => deps.logger?.warn({ err: e }, 'could not record API key use'));
    }
    const result: AuthResult = {
      via: 'apiKey',
      rawContext: record.securityContext,
      securityContext: record.securityContext,
      scopes: record.scopes,
      subject: record.id,
      allTenants: record.allTenants,
    };
    return Object.freeze(result);
  };
}
