/**
 * Cube's COMPILE_CONTEXT: the security context a model is compiled for
 * (`COMPILE_CONTEXT.securityContext.tenant`). Its values end up in SQL text, not in
 * parameters, so a value read into SQL or Jinja output must be a plain identifier or
 * number; anything else fails the compile instead of reaching SQL.
 */
import { ModelError } from '../../errors/engine-error.js';
import type { SecurityContext } from '../model.js';
import { LocatedModelError } from './located-error.js';

export interface CompileContext {
  readonly securityContext: SecurityContext;
  /** The same object, as Cube's Python-style templates spell it. */
  readonly security_context: SecurityContext;
}

const SAFE_TEXT = /^[A-Za-z0-9_]*$/;
const PATH = /COMPILE_CONTEXT((?:\s*\.\s*[_a-zA-Z]\w*|\[\s*['"][^'"]+['"]\s*\])*)/g;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** The compile context of a security context (a frozen copy). */
export function compileContextOf(securityContext: SecurityContext = {}): CompileContext {
  const copy = structuredClone(securityContext) as SecurityContext;
  return deepFreeze({ securityContext: copy, security_context: copy });
}

export const EMPTY_COMPILE_CONTEXT: CompileContext = compileContextOf({});

function unsafeLeaf(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return SAFE_TEXT.test(value) ? undefined : path;
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const found = unsafeLeaf(v, `${path}.${k}`);
      if (found) return found;
    }
  }
  return undefined;
}

function unsafeMessage(path: string): string {
  return `${path} is not a plain identifier or number, so it cannot be written into SQL; use SECURITY_CONTEXT, which binds values as parameters`;
}

/** Jinja output cannot bind parameters: every COMPILE_CONTEXT path a file reads must hold safe values only. */
export function checkCompileContextPaths(fileName: string, text: string, ctx: CompileContext): void {
  for (const m of text.matchAll(PATH)) {
    const keys = [...(m[1] ?? '').matchAll(/[_a-zA-Z]\w*|['"]([^'"]+)['"]/g)].map((k) => k[1] ?? k[0]);
    let value: unknown = ctx;
    for (const key of keys) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    const bad = unsafeLeaf(value, ['COMPILE_CONTEXT', ...keys].join('.'));
    if (bad) {
      const line = text.slice(0, m.index).split('\n').length;
      throw new LocatedModelError(unsafeMessage(bad), { file: fileName, line });
    }
  }
}

/** The view SQL templates get: unsafe strings become values that refuse to be written into SQL. */
export function templateCompileContext(ctx: CompileContext): unknown {
  const view = (value: unknown, path: string): unknown => {
    if (typeof value === 'string') {
      if (SAFE_TEXT.test(value)) return value;
      const refuse = () => {
        throw new ModelError(unsafeMessage(path));
      };
      return Object.freeze({ [Symbol.toPrimitive]: refuse, toString: refuse, valueOf: refuse });
    }
    if (typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) return Object.freeze(value.map((v, i) => view(v, `${path}.${i}`)));
    return Object.freeze(Object.fromEntries(Object.entries(value).map(([k, v]) => [k, view(v, `${path}.${k}`)])));
  };
  return view(ctx, 'COMPILE_CONTEXT');
}

/** Whether a model file reads COMPILE_CONTEXT, so the model must be compiled per context. */
export function readsCompileContext(content: string): boolean {
  return content.includes('COMPILE_CONTEXT');
}
