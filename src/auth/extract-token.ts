/**
 * Where a credential comes from, following Cube's gateway rules, with one security
 * context per request: a repeated header, or credentials that disagree, are ambiguous.
 */
import type { AuthRequest } from '../server/app-deps.js';
import { API_KEY_PREFIX } from './api-key-authenticator.js';

export type Credential =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'apiKey'; readonly token: string }
  /** Several credentials, or one header sent several times: no single security context. */
  | { readonly kind: 'ambiguous'; readonly reason: string };

const AUTH_HEADERS = ['x-cube-authorization', 'authorization'] as const;

/**
 * The one value of a header, `undefined` when absent or empty, `null` when sent more than once.
 * Callers hand `req.headersDistinct`, since Node keeps only the first `Authorization` and
 * joins repeated custom headers with `, `.
 */
function single(value: string | string[] | undefined): string | undefined | null {
  const values = (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v) => v.trim() !== '');
  if (values.length > 1) return null;
  return values[0]?.trim();
}

/**
 * `Bearer x`, `JWT x` → `x`; a single part is a raw token (Cube's rule). `null` when the value
 * holds more than one token (`a, b` as a proxy joins repeated headers, or `Bearer a b`).
 */
function tokenOf(header: string): string | undefined | null {
  const parts = header.split(' ');
  const token = parts.length === 1 ? parts[0] : parts[1];
  if (token !== '' && (parts.length > 2 || (parts.length === 2 && !/^[A-Za-z]+$/.test(parts[0]!)))) return null;
  return token === undefined || token === '' ? undefined : token;
}

/**
 * Reads the token the way Cube does: `x-cube-authorization` if present, else `Authorization`;
 * when API keys are enabled, `X-API-Key` (or a `tsk_` bearer token) is an API key. Unlike Cube,
 * credentials in several places must all be the same one.
 */
export function extractCredential(headers: AuthRequest['headers'], options: { readonly apiKeys: boolean }): Credential {
  const found: string[] = [];
  for (const name of AUTH_HEADERS) {
    const value = single(headers[name]);
    if (value === null) return { kind: 'ambiguous', reason: `the ${name} header was sent more than once` };
    const token = value === undefined ? undefined : tokenOf(value);
    if (token === null) return { kind: 'ambiguous', reason: `the ${name} header holds more than one credential` };
    if (token !== undefined) found.push(token);
  }
  if (options.apiKeys) {
    const key = single(headers['x-api-key']);
    if (key === null) return { kind: 'ambiguous', reason: 'the x-api-key header was sent more than once' };
    if (key !== undefined) found.push(key);
  }
  const distinct = [...new Set(found)];
  if (distinct.length > 1) return { kind: 'ambiguous', reason: 'different credentials were sent in several headers' };
  const token = distinct[0];
  if (token === undefined) return { kind: 'none' };
  const isKey = options.apiKeys && (token.startsWith(API_KEY_PREFIX) || single(headers['x-api-key']) === token);
  return isKey ? { kind: 'apiKey', token } : { kind: 'token', token };
}
