/**
 * HS256 verification against the configured secrets (rotation: any verifies).
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
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
        // Only a signature mismatch means "maybe another secret"; anything else was signed by this one.
        if (error instanceof jwt.JsonWebTokenError && error.message === 'invalid signature') {
          lastError = error.message;
          continue;
        }
        throw mapJwtError(error);
      }
    }
    throw authErrors.invalidToken(lastError);
  };
}
