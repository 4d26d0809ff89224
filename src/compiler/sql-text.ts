/**
 * The only places that write SQL text pieces: identifier quoting and parameter placeholders.
 * Parameters are collected as markers and numbered `$1…$n` in text order at the end,
 * so one value used twice keeps one number.
 */
import type { CompiledSql } from '../db/database.js';

const MARKER = /\u0000(\d+)\u0000/g;

/** Double-quotes an identifier that comes from the model. */
export function quoteIdentifier(name: string): string {
  if (name.includes('\u0000')) throw new Error('Identifier contains a NUL character');
  return `"${name.replace(/"/g, '""')}"`;
}

export class ParamList {
  readonly #values: unknown[] = [];

  /** Records a value and returns a placeholder for it. */
  add(value: unknown): string {
    this.#values.push(value);
    return `\u0000${this.#values.length - 1}\u0000`;
  }

  /** Numbers the placeholders in text order and returns the final statement. */
  finish(text: string): CompiledSql {
    const numbers = new Map<number, number>();
    const params: unknown[] = [];
    const sql = text.replace(MARKER, (_m, idx: string) => {
      const i = Number(idx);
      let n = numbers.get(i);
      if (n === undefined) {
        params.push(this.#values[i]);
        n = params.length;
        numbers.set(i, n);
      }
      return `$${n}`;
    });
    return Object.freeze({ sql, params: Object.freeze(params) });
  }
}

/** `createdAt` → `created_at`, `OrderItems` → `order_items`. */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}
