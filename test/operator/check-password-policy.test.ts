import { describe, expect, it } from 'vitest';
import { checkPasswordPolicy, MAX_PASSWORD_LENGTH } from '../../src/operator/check-password-policy.js';

describe('checkPasswordPolicy', () => {
  it('accepts a password of 12 characters with upper, lower, digit and special', () => {
    expect(checkPasswordPolicy('Abcdefgh1!xy')).toBeUndefined();
  });

  it.each([
    ['Abc1!xyzxyz', 'Password must be at least 12 characters long.'],
    ['abcdefgh1!xyz', 'Password must contain an upper-case letter.'],
    ['ABCDEFGH1!XYZ', 'Password must contain a lower-case letter.'],
    ['Abcdefghi!xyz', 'Password must contain a digit.'],
    ['Abcdefghi1xyz', 'Password must contain a special character.'],
    [`Aa1!${'x'.repeat(MAX_PASSWORD_LENGTH)}`, `Password must be at most ${MAX_PASSWORD_LENGTH} characters long.`],
  ])('rejects %j naming the failed rule', (password, message) => {
    expect(checkPasswordPolicy(password)).toBe(message);
  });

  it('counts characters, not UTF-16 units, towards the minimum length', () => {
    // Eleven characters, six of them astral emoji that take two UTF-16 units each.
    expect(checkPasswordPolicy('Aa1😀😀😀😀😀😀😀😀')).toBe('Password must be at least 12 characters long.');
  });

  it('treats a space as a special character', () => {
    expect(checkPasswordPolicy('Correct horse 1')).toBeUndefined();
  });
});
