// The seed's AWS Cognito pattern as a Tessera `checkAuth`: look up the pool's
// JWKS, pick the key by `kid`, verify the token, and set req.securityContext.
// Unlike the seed, keys are cached (jwks-rsa), the algorithm is pinned, and the
// issuer, token_use and client_id are checked.
import jwt from 'jsonwebtoken';
import jwksRsa from 'jwks-rsa';
// In your own project: import { AuthError } from 'tessera';
import { AuthError } from '../../src/index.js';

/**
 * @param {{ region: string, userPoolId: string, clientId: string, jwksUri?: string }} options
 *   `jwksUri` defaults to the pool's well-known URL (tests point it at a local server).
 */
export function createCognitoCheckAuth({ region, userPoolId, clientId, jwksUri }) {
  for (const [name, value] of Object.entries({ region, userPoolId, clientId })) {
    if (!value) throw new Error(`createCognitoCheckAuth: ${name} is required`);
  }
  const issuer = `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
  const keys = new jwksRsa.JwksClient({
    jwksUri: jwksUri ?? `${issuer}/.well-known/jwks.json`,
    cache: true,
    rateLimit: true,
    jwksRequestsPerMinute: 10,
    timeout: 5000,
  });

  return async (req, auth) => {
    if (!auth) throw new AuthError(401, 'Sign in with Cognito first');
    const decoded = jwt.decode(auth, { complete: true });
    const kid = decoded?.header?.kid;
    if (typeof kid !== 'string') throw new AuthError(401, 'Invalid Cognito token');

    let key;
    try {
      key = await keys.getSigningKey(kid);
    } catch (error) {
      // A kid the pool does not publish is the caller's problem; an unreachable pool is not.
      if (error instanceof jwksRsa.SigningKeyNotFoundError) throw new AuthError(401, 'Invalid Cognito token');
      throw new AuthError(503, 'Cognito signing keys are unavailable; try again later', { cause: error });
    }

    let claims;
    try {
      claims = jwt.verify(auth, key.getPublicKey(), { algorithms: ['RS256'], issuer });
    } catch (error) {
      throw new AuthError(401, error instanceof jwt.TokenExpiredError ? 'Cognito token expired' : 'Invalid Cognito token');
    }
    // Access tokens carry client_id and token_use instead of aud.
    if (claims.token_use !== 'access' || claims.client_id !== clientId) {
      throw new AuthError(401, 'Invalid Cognito token');
    }
    // Custom claims come from a pre-token-generation Lambda; the demo model filters by them.
    const tenantId = claims['custom:tenant_id'];
    if (tenantId === undefined) throw new AuthError(403, 'This Cognito user belongs to no tenant');
    const userId = claims['custom:user_id'];
    req.securityContext = {
      sub: claims.sub,
      username: claims.username,
      groups: claims['cognito:groups'] ?? [],
      tenant_id: Number(tenantId),
      ...(userId === undefined ? {} : { u: { id: Number(userId) } }),
    };
  };
}
