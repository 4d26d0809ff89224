/** perCaller: a per-caller key is worked out once per AuthResult, and never shared between two. */
import { describe, expect, it } from 'vitest';
import { perCaller, type AuthResult } from '../../src/auth/auth-result.js';

const caller = (sub: string): AuthResult => Object.freeze<AuthResult>({ via: 'jwt', rawContext: { sub }, securityContext: { sub }, scopes: ['query'], subject: sub });

describe('perCaller', () => {
  it('derives once for the same AuthResult and again for another, even with equal claims', () => {
    let calls = 0;
    const keyOf = perCaller((auth) => {
      calls += 1;
      return `k:${auth.subject}`;
    });
    const a = caller('a');
    expect([keyOf(a), keyOf(a)]).toEqual(['k:a', 'k:a']);
    expect(calls).toBe(1);
    expect(keyOf(caller('b'))).toBe('k:b');
    expect(keyOf(caller('a'))).toBe('k:a');
    expect(calls).toBe(3);
  });
});
