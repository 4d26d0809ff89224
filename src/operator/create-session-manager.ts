/**
 * Admin sessions: an HS256 JWT `{sub, iat, exp, jti}` signed with the secret
 * kept in the metadata schema, carried only in an HttpOnly cookie. The random
 * `jti` keeps two logins in the same second apart, so logout ends only its own.
 */
import { createHash, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { OperatorStore } from './create-operator-store.js';

export const SESSION_COOKIE = 'tessera_session';
const SUBJECT = 'admin';

export interface Session {
  readonly token: string;
  readonly subject: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

export interface SessionManager {
  issue(): Promise<Session>;
  /** The session a token stands for, or undefined when it is forged, expired, revoked or from an old secret. */
  verify(token: string): Promise<Session | undefined>;
  revoke(session: Session): Promise<void>;
}

export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

export function createSessionManager(options: {
  readonly store: OperatorStore;
  readonly sessionDays: number;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
}): SessionManager {
  const { store, sessionDays, now } = options;
  const nowSec = () => Math.floor(now() / 1000);

  return {
    async issue() {
      const iat = nowSec();
      const exp = iat + sessionDays * 86_400;
      const jti = randomBytes(16).toString('hex');
      const token = jwt.sign({ sub: SUBJECT, iat, exp, jti }, await store.sessionSecret(), { algorithm: 'HS256' });
      return { token, subject: SUBJECT, expiresAt: exp };
    },

    async verify(token) {
      // A session token is a few hundred bytes; anything much longer is not one of ours.
      if (token.length === 0 || token.length > 1024) return undefined;
      let payload: jwt.JwtPayload | string;
      try {
        payload = jwt.verify(token, await store.sessionSecret(), {
          algorithms: ['HS256'],
          clockTimestamp: nowSec(),
          subject: SUBJECT,
        });
      } catch {
        return undefined;
      }
      if (typeof payload === 'string' || typeof payload.exp !== 'number') return undefined;
      if (await store.isSessionRevoked(tokenHash(token))) return undefined;
      return { token, subject: SUBJECT, expiresAt: payload.exp };
    },

    async revoke(session) {
      await store.revokeSession(tokenHash(session.token), new Date(session.expiresAt * 1000), new Date(now()));
    },
  };
}
