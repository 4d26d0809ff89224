/**
 * HS256 tokens for tests, signed with the secret `createTestApp` configures.
 */
import jwt from 'jsonwebtoken';

/** The CUBEJS_API_SECRET of the base test environment. */
export const TEST_SECRET = 'tessera-test-secret-0123456789abcdef';

export interface SignOptions {
  /** Defaults to TEST_SECRET. */
  readonly secret?: string;
  /** e.g. '1h', '-10s' (already expired), or seconds. Default: 1h. `null` for no exp. */
  readonly expiresIn?: string | number | null;
  readonly notBefore?: string | number;
  readonly algorithm?: jwt.Algorithm;
  readonly header?: Record<string, unknown>;
}

/** Signs any payload (object, or a string/array for "non-object payload" cases). */
export function signToken(payload: string | object | Buffer, opts: SignOptions = {}): string {
  const options: jwt.SignOptions = { algorithm: opts.algorithm ?? 'HS256' };
  const isObject = typeof payload === 'object' && payload !== null && !Array.isArray(payload) && !Buffer.isBuffer(payload);
  if (isObject && opts.expiresIn !== null) options.expiresIn = (opts.expiresIn ?? '1h') as jwt.SignOptions['expiresIn'];
  if (isObject && opts.notBefore !== undefined) options.notBefore = opts.notBefore as jwt.SignOptions['notBefore'];
  if (opts.header) options.header = { alg: options.algorithm!, ...opts.header } as jwt.JwtHeader;
  return jwt.sign(payload as object, opts.secret ?? TEST_SECRET, options);
}

/** The demo's tenant of a user: users are spread round-robin over 5 tenants. */
export const tenantOfUser = (userId: number): number => ((userId - 1) % 5) + 1;

/** A token for demo user `userId` in the seed's shape: `{u: {id}, tenant_id, sub}`. */
export function userToken(userId: number, opts: SignOptions & { extra?: Record<string, unknown> } = {}): string {
  return signToken({ sub: `user-${userId}`, u: { id: userId }, tenant_id: tenantOfUser(userId), ...opts.extra }, opts);
}

const b64url = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A hand-built JWT with any header and payload, e.g. `{alg: 'none'}` with an empty signature. */
export function rawToken(header: object, payload: unknown, signature = ''): string {
  return `${b64url(header)}.${b64url(payload)}.${signature}`;
}
