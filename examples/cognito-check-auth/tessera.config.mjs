// Run Tessera with: TESSERA_CONFIG=examples/cognito-check-auth/tessera.config.mjs npm start
import { createCognitoCheckAuth } from './cognito-check-auth.mjs';

export default {
  checkAuth: createCognitoCheckAuth({
    region: process.env.COGNITO_REGION,
    userPoolId: process.env.COGNITO_USER_POOL_ID,
    clientId: process.env.COGNITO_CLIENT_ID,
    // Only for tests and proxies; unset, the pool's own JWKS URL is used.
    jwksUri: process.env.COGNITO_JWKS_URL,
  }),
};
