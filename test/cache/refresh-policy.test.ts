/**
 * Cube's `refresh_key.every` durations, and what a cube gets when Tessera cannot read one.
 */
import { describe, expect, it } from 'vitest';
import { parseEveryMs } from '../../src/cache/refresh-policy.js';

describe('refresh_key every', () => {
  it.each([
    ['10 second', 10_000],
    ['30 seconds', 30_000],
    ['1 minute', 60_000],
    ['5 minutes', 300_000],
    ['1 hour', 3_600_000],
    ['2 hours', 7_200_000],
    ['1 day', 86_400_000],
    ['1 week', 604_800_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
  ])('reads "%s" as %i ms', (text, ms) => {
    expect(parseEveryMs(text)).toBe(ms);
  });

  it.each(['0 * * * *', '0 seconds', 'soon', '1 fortnight', ''])('does not read "%s" (the cube falls back to the 10 second default)', (text) => {
    expect(parseEveryMs(text)).toBeUndefined();
  });
});
