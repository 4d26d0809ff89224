/**
 * Argon2id hashing of the admin password (time cost 3, parallelism 1,
 * 32-byte output, memory from config), via @node-rs/argon2.
 */
import { hash, verify } from '@node-rs/argon2';

// The native enum is `const`, which tsx cannot inline; 2 is Argon2id.
const ARGON2ID = 2;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password or an unreadable stored hash. */
  verify(storedHash: string, password: string): Promise<boolean>;
}

export function createPasswordHasher(options: { readonly memoryKib: number }): PasswordHasher {
  return {
    hash: (password) =>
      hash(password, {
        algorithm: ARGON2ID,
        memoryCost: options.memoryKib,
        timeCost: 3,
        parallelism: 1,
        outputLen: 32,
      }),
    // Parameters are read back from the PHC string, so older hashes stay valid after a memory change.
    verify: async (storedHash, password) => {
      try {
        return await verify(storedHash, password);
      } catch {
        return false;
      }
    },
  };
}
