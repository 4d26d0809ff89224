/**
 * HS256 verification against the configured secrets (rotation: any verifies).
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { authErrors } from './auth-errors.js';
import { mapJwtError, type ClaimOptions } from './verify-claims.js';

export type Hs256Verifier = (token: string, claims: ClaimOptions) => unknown;

export function createHs256Verifier(secrets: readonly string[]): Hs256Verifier {
  // KeyObjects once: jsonwebtoken would otherwise try to parse each string as a PEM on every request.
  const keys: readonly KeyObject[] = secrets.map((s) => createSecretKey(Buffer.from(s, 'utf8')));
  return (token, claims) => {
    let lastError: unknown = 'no HS256 secret is configured';
    for (const key of keys) {
      try {
        return jwt.verify(token, key, { ...claims, algorithms: ['HS256'] });
      } catch (error) {
        if (error instanceof jwt.JsonWebTokenError) {
          // Only a signature mismatch means "maybe another secret"; anything else was signed by this one.
          if (error.message !== 'invalid signature') throw mapJwtError(error);
        } else if (signatureHolds(token, key)) {
          // jsonwebtoken trips over a signed payload that is not JSON or is `null`; that is a payload problem.
          throw authErrors.contextNotObject('The token payload', payloadValue(token));
        }
        lastError = error instanceof Error ? error.message : error;
      }
    }
    throw authErrors.invalidToken(lastError);
  };
}

function signatureHolds(token: string, key: KeyObject): boolean {
  const cut = token.lastIndexOf('.');
  const expected = createHmac('sha256', key).update(token.slice(0, cut)).digest();
  const actual = Buffer.from(token.slice(cut + 1), 'base64url');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function payloadValue(token: string): unknown {
  const text = Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
