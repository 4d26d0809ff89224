/**
 * The admin password policy: at least 12 characters with upper case, lower
 * case, a digit and a special character. The first failed rule is reported.
 */

/** Longest accepted password; bounds the Argon2 input so a huge body cannot burn CPU. */
export const MAX_PASSWORD_LENGTH = 256;

const RULES: readonly { readonly test: (pw: string) => boolean; readonly message: string }[] = [
  { test: (pw) => [...pw].length >= 12, message: 'Password must be at least 12 characters long.' },
  {
    test: (pw) => [...pw].length <= MAX_PASSWORD_LENGTH,
    message: `Password must be at most ${MAX_PASSWORD_LENGTH} characters long.`,
  },
  { test: (pw) => /\p{Lu}/u.test(pw), message: 'Password must contain an upper-case letter.' },
  { test: (pw) => /\p{Ll}/u.test(pw), message: 'Password must contain a lower-case letter.' },
  { test: (pw) => /\p{Nd}/u.test(pw), message: 'Password must contain a digit.' },
  { test: (pw) => /[^\p{L}\p{N}]/u.test(pw), message: 'Password must contain a special character.' },
];

/** Returns the message of the first rule the password breaks, or undefined when it passes. */
export function checkPasswordPolicy(password: string): string | undefined {
  return RULES.find((rule) => !rule.test(password))?.message;
}
