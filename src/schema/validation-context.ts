/**
 * The `SqlRenderContext` of the start-up validation render: every template is rendered
 * once with an empty security context, so unknown cubes and members fail at load,
 * and the member references it records let the loader find reference cycles.
 */
import type { SecurityContext, SqlRenderContext } from './model.js';

export class ValidationContext implements SqlRenderContext {
  readonly securityContext: SecurityContext = Object.freeze({});
  /** `Cube.member` references made by the template being rendered. */
  readonly memberRefs: string[] = [];
  /** Set when the template read a raw context value, whose shape the validation cannot know. */
  usedUnsafeValue = false;
  private params = 0;

  cubeRef(cube: string): string {
    return `"${cube}"`;
  }

  memberRef(cube: string, member: string): string {
    this.memberRefs.push(`${cube}.${member}`);
    return `"${cube}"."${member}"`;
  }

  param(_value: unknown): string {
    this.params += 1;
    return `$${this.params}`;
  }

  granularityRef(cube: string, member: string, granularity: string): string {
    this.memberRefs.push(`${cube}.${member}`);
    return `date_trunc('${granularity}', "${cube}"."${member}")`;
  }

  filterParam(): string {
    return '1 = 1';
  }
}
