/** What the build steps share: the model index, the templates to check at start-up, visibility facts, collected errors. */
import type { ModelError } from '../../errors/engine-error.js';
import type { ModelIndex, TemplateScope } from '../bind-template.js';
import type { SqlTemplate } from '../model.js';

export interface Sourced {
  readonly raw: unknown;
  readonly file: string;
}

/** A template to render at start-up, with what it may reference. */
export interface Check {
  readonly scope: TemplateScope;
  readonly template: SqlTemplate;
  /** The member that owns it (`Cube.member`), for the reference graph. */
  readonly owner?: string;
  /** Whether it may reference measures (number measures, subQuery dimensions). */
  readonly mayReferenceMeasures: boolean;
  /** For a measure's own sql: whether its type aggregates (sum, count, …) rather than computing per row (number, …). */
  readonly aggregating?: boolean;
}

export interface BuildState {
  readonly index: ModelIndex;
  readonly checks: Check[];
  /** `Cube.member` hidden by an explicit flag (not by the primary-key default): never re-exposed by a view's `'*'`. */
  readonly explicitlyHidden: Set<string>;
  /** `Cube.member` → its own `title`, which views keep. */
  readonly explicitTitles: Map<string, string>;
  readonly errors: ModelError[] | undefined;
}

