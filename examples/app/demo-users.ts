/**
 * The example app's own users. They map to rows of the demo dataset, so each
 * login sees a different slice of the orders.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

export interface DemoUser {
  readonly username: string;
  readonly displayName: string;
  /** `users.id` in the demo dataset; becomes `u.id` in the Tessera token. */
  readonly userId: number;
  /** `users.tenant_id` in the demo dataset (`((id - 1) % 5) + 1`). */
  readonly tenantId: number;
}

interface StoredUser extends DemoUser {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/** The two demo logins; the passwords are printed by `npm run example` and listed in the README. */
export const DEMO_USERS: readonly (DemoUser & { readonly password: string })[] = [
  { username: 'ada', password: 'ada-demo-password', displayName: 'Ada (user 42)', userId: 42, tenantId: 2 },
  { username: 'grace', password: 'grace-demo-password', displayName: 'Grace (user 7)', userId: 7, tenantId: 2 },
];

const hash = (password: string, salt: Buffer): Buffer => scryptSync(password, salt, 32);

/** Checks passwords against salted scrypt hashes; plaintext is dropped once the store is built. */
export class UserStore {
  readonly #users: ReadonlyMap<string, StoredUser>;

  constructor(users: readonly (DemoUser & { readonly password: string })[]) {
    this.#users = new Map(
      users.map(({ password, ...user }) => {
        const salt = randomBytes(16);
        return [user.username, { ...user, salt, hash: hash(password, salt) }];
      }),
    );
  }

  /** The user when the password matches, else undefined; unknown names cost the same hash. */
  verify(username: string, password: string): DemoUser | undefined {
    const stored = this.#users.get(username);
    const salt = stored?.salt ?? randomBytes(16);
    const candidate = hash(password, salt);
    if (stored === undefined || !timingSafeEqual(candidate, stored.hash)) return undefined;
    const { salt: _s, hash: _h, ...user } = stored;
    return user;
  }

  get(username: string): DemoUser | undefined {
    const stored = this.#users.get(username);
    if (stored === undefined) return undefined;
    const { salt: _s, hash: _h, ...user } = stored;
    return user;
  }
}
