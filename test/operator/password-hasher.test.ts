import { describe, expect, it } from 'vitest';
import { createPasswordHasher } from '../../src/operator/password-hasher.js';

describe('createPasswordHasher', () => {
  const hasher = createPasswordHasher({ memoryKib: 1024 });

  it('hashes with Argon2id, time cost 3, parallelism 1, the configured memory and a 32-byte output', async () => {
    const phc = await hasher.hash('Correct horse 1!');
    const match = /^\$argon2id\$v=19\$m=1024,t=3,p=1\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(phc);
    expect(match).not.toBeNull();
    expect(Buffer.from(match![2]!, 'base64')).toHaveLength(32);
  });

  it('verifies the right password and rejects a wrong one', async () => {
    const phc = await hasher.hash('Correct horse 1!');
    await expect(hasher.verify(phc, 'Correct horse 1!')).resolves.toBe(true);
    await expect(hasher.verify(phc, 'Correct horse 2!')).resolves.toBe(false);
  });

  it('answers false instead of throwing for a stored hash it cannot read', async () => {
    await expect(hasher.verify('not a phc string', 'anything')).resolves.toBe(false);
  });

  it('still verifies a hash made with another memory cost', async () => {
    const old = await createPasswordHasher({ memoryKib: 2048 }).hash('Correct horse 1!');
    await expect(hasher.verify(old, 'Correct horse 1!')).resolves.toBe(true);
  });
});
