/**
 * Asymmetric verification with keys from a JWKS endpoint (Cognito, Auth0, any
 * OIDC issuer), through jwks-rsa's cache and rate limiter.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import jwksRsa from 'jwks-rsa';
import { authErrors } from './auth-errors.js';
import type { JwtHeader } from './decode-jwt-header.js';
import { mapJwtError, type ClaimOptions } from './verify-claims.js';

/** Algorithms jsonwebtoken can verify with a public key. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
] as const;

export interface JwksOptions {
  /** Replaces the HTTP GET of the key set (tests, proxies); resolves to `{keys: [...]}`. */
  readonly fetcher?: ((jwksUri: string) => Promise<{ keys: unknown }>) | undefined;
  readonly timeoutMs?: number | undefined;
  readonly cacheMaxAgeMs?: number | undefined;
  /** Fetches allowed per minute, so a flood of unknown `kid`s cannot hammer the issuer. */
  readonly requestsPerMinute?: number | undefined;
}

export type JwksVerifier = (token: string, header: JwtHeader, claims: ClaimOptions) => Promise<unknown>;

export function createJwksVerifier(
  jwksUri: string,
  algorithms: readonly string[],
  options: JwksOptions = {},
): JwksVerifier {
  const client = new jwksRsa.JwksClient({
    jwksUri,
    cache: true,
    cacheMaxEntries: 16,
    cacheMaxAge: options.cacheMaxAgeMs ?? 10 * 60_000,
    rateLimit: true,
    jwksRequestsPerMinute: options.requestsPerMinute ?? 10,
    timeout: options.timeoutMs ?? 5_000,
    ...(options.fetcher ? { fetcher: options.fetcher } : {}),
  });
  // jwks-rsa hands back the same cached key object per kid, so the parsed KeyObject can ride along.
  const keyObjects = new WeakMap<object, KeyObject>();

  return async (token, header, claims) => {
    if (!algorithms.includes(header.alg)) throw authErrors.invalidToken(`alg ${header.alg} is not accepted`);
    if (header.kid === undefined) throw authErrors.invalidToken('JWT without kid in its header');

    let signingKey: jwksRsa.SigningKey;
    try {
      // A kid missing from the cache fetches the key set again, which is how rotation works without a restart.
      signingKey = await client.getSigningKey(header.kid);
    } catch (error) {
      throw mapJwksError(error);
    }
    // RFC 8725: a key is bound to its one algorithm when the key set says which.
    if (signingKey.alg !== undefined && signingKey.alg !== header.alg) {
      throw authErrors.invalidToken(`alg ${header.alg} does not match the key's ${signingKey.alg}`);
    }
    let key = keyObjects.get(signingKey);
    if (key === undefined) {
      key = createPublicKey(signingKey.getPublicKey());
      keyObjects.set(signingKey, key);
    }

    let payload: unknown;
    try {
      payload = jwt.verify(token, key, { ...claims, algorithms: [header.alg as jwt.Algorithm] });
    } catch (error) {
      throw mapJwtError(error);
    }
    // Identity-provider tokens always expire; one without exp is not one of theirs.
    if (typeof payload === 'object' && payload !== null && typeof (payload as { exp?: unknown }).exp !== 'number') {
      throw authErrors.invalidToken('exp claim is required for JWKS tokens');
    }
    return payload;
  };
}

function mapJwksError(error: unknown) {
  if (error instanceof jwksRsa.SigningKeyNotFoundError) return authErrors.invalidToken(error.message);
  // Unknown kids beyond the fetch budget: the token's key is not one we know.
  if (error instanceof jwksRsa.JwksRateLimitError) return authErrors.invalidToken(error.message);
  return authErrors.jwksUnavailable(error);
}
