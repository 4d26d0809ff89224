/**
 * Reads a JWT's protected header before verification, only to route it to a
 * verifier. Nothing in it is trusted: the verifier re-checks `alg` against its
 * own allowlist and `kid` only selects a key from the fetched key set.
 */
import { authErrors, isPlainObject } from './auth-errors.js';

export interface JwtHeader {
  readonly alg: string;
  readonly kid?: string | undefined;
}

/** Compact JWS only (RFC 8725bis): three base64url parts, nothing else. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/** Header parameters that point at keys we would have to fetch or trust from the token itself. */
const FORBIDDEN_HEADER_PARAMS = ['jku', 'x5u', 'jwk', 'x5c', 'crit'] as const;

/** `kid` only ever indexes the fetched key set; anything shaped like a path or SQL is refused outright. */
const SAFE_KID = /^[A-Za-z0-9._~+/=:-]{1,256}$/;

export function decodeJwtHeader(token: string, maxTokenBytes: number): JwtHeader {
  if (Buffer.byteLength(token, 'utf8') > maxTokenBytes) {
    throw authErrors.invalidToken(`token is larger than ${maxTokenBytes} bytes`);
  }
  if (!COMPACT_JWS.test(token)) throw authErrors.invalidToken('not a compact JWS');
  const encoded = token.slice(0, token.indexOf('.'));
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch (cause) {
    throw authErrors.invalidToken(cause);
  }
  if (!isPlainObject(header)) throw authErrors.invalidToken('header is not a JSON object');
  if (typeof header.alg !== 'string') throw authErrors.invalidToken('header has no alg');
  for (const param of FORBIDDEN_HEADER_PARAMS) {
    if (param in header) throw authErrors.invalidToken(`header parameter ${param} is not accepted`);
  }
  const kid = header.kid;
  if (kid !== undefined && (typeof kid !== 'string' || !SAFE_KID.test(kid) || kid.includes('..') || kid.includes('--'))) {
    throw authErrors.invalidToken('kid has characters outside the allowed set');
  }
  return { alg: header.alg, kid };
}
