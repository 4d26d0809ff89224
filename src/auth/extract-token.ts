/**
 * Where a credential comes from, following Cube's gateway rules.
 */
import type { AuthRequest } from '../server/app-deps.js';
import { API_KEY_PREFIX } from './api-key-authenticator.js';

export type Credential =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'apiKey'; readonly token: string }
  /** A header sent several times cannot be trusted to mean one credential. */
  | { readonly kind: 'ambiguous' };

function single(value: string | string[] | undefined): string | undefined | null {
  if (Array.isArray(value)) return value.length === 1 ? value[0] : null;
  return value;
}

/**
 * Reads the token the way Cube does: `x-cube-authorization` if present, else
 * `Authorization`; split on a space, one part is a raw token, two parts keep
 * the second (`Bearer x`, `JWT x`). An empty token counts as missing.
 * When API keys are enabled, `X-API-Key` (or a `tsk_` bearer token) is an API key.
 */
export function extractCredential(headers: AuthRequest['headers'], options: { readonly apiKeys: boolean }): Credential {
  if (options.apiKeys) {
    const apiKey = single(headers['x-api-key']);
    if (apiKey === null) return { kind: 'ambiguous' };
    if (apiKey !== undefined && apiKey !== '') return { kind: 'apiKey', token: apiKey };
  }

  const cube = single(headers['x-cube-authorization']);
  const standard = single(headers['authorization']);
  if (cube === null || (cube === undefined && standard === null)) return { kind: 'ambiguous' };
  const header = cube !== undefined && cube !== '' ? cube : standard;
  if (header === undefined || header === null || header === '') return { kind: 'none' };

  const parts = header.split(' ', 2);
  const token = parts.length === 1 ? parts[0] : parts[1];
  if (token === undefined || token === '') return { kind: 'none' };
  return options.apiKeys && token.startsWith(API_KEY_PREFIX) ? { kind: 'apiKey', token } : { kind: 'token', token };
}
