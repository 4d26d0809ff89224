/**
 * A wrapped property value produced by the transpiled model code: the arrow function
 * plus the names of its parameters, resolved later for each use.
 */
export class RawTemplate {
  constructor(
    /** The model's own function (created inside the model's `vm` context). */
    readonly fn: (...args: unknown[]) => unknown,
    /** Free identifiers, in parameter order. */
    readonly params: readonly string[],
    /** Dotted property path inside the definition. */
    readonly path: string,
    readonly fileName: string,
  ) {
    Object.freeze(this);
  }
}
