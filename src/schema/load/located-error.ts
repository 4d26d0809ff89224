/**
 * A ModelError that also knows the line: `file` stays the file's name, the message reads
 * `orders.yml:12: orders.count: …` as editors and terminals expect.
 */
import { ModelError } from '../../errors/engine-error.js';

export class LocatedModelError extends ModelError {
  readonly line: number | undefined;

  constructor(message: string, where: { file: string; line?: number | undefined; member?: string | undefined }, cause?: unknown) {
    super(message, { file: where.file, ...(where.member === undefined ? {} : { member: where.member }) }, cause);
    this.line = where.line;
    if (where.line !== undefined) {
      this.message = `${[`${where.file}:${where.line}`, where.member].filter(Boolean).join(': ')}: ${message}`;
    }
  }
}

/** The message of a ModelError without its `file: member: ` prefix. */
export function bareMessage(error: ModelError): string {
  const prefix = [error.file, error.member].filter(Boolean).join(': ');
  return prefix && error.message.startsWith(`${prefix}: `) ? error.message.slice(prefix.length + 2) : error.message;
}
