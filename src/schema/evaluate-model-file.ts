/**
 * Runs one transpiled model file in its own `node:vm` context whose globals are
 * `cube`, `view` and the template hook, as Cube does (15 s timeout). The `vm` is not a
 * security boundary: model files are the operator's trusted code.
 */
import vm from 'node:vm';
import { ModelError } from '../errors/engine-error.js';
import { RawTemplate } from './raw-template.js';
import { IMPORT_DEFAULT_HOOK, IMPORT_HOOK } from './load/js/es-modules.js';
import { TEMPLATE_HOOK, type TemplateSite } from './transpile-model-file.js';

const EVALUATION_TIMEOUT_MS = 15_000;
const IDENTIFIER = /^[_a-zA-Z][_a-zA-Z0-9]*$/;

/** One `cube(name, definition)` or `view(name, definition)` call, as evaluated. */
export interface RawDefinition {
  readonly kind: 'cube' | 'view';
  readonly name: string;
  readonly fileName: string;
  /** The definition object (from the model's realm), with templates in place of wrapped values. */
  readonly definition: Readonly<Record<string, unknown>>;
}

/** The global names a fresh context defines, which model code may use freely. */
export function builtinGlobalNames(): string[] {
  return vm.runInContext('Object.getOwnPropertyNames(globalThis)', vm.createContext({})) as string[];
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof RawTemplate);
}

/** The message of an error from any realm (errors thrown inside `vm` are not host `Error`s). */
export function messageOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return String(error);
}

/** What a model file's `vm` context provides beyond `cube` / `view`: modules, `asyncModule`, COMPILE_CONTEXT. */
export interface ModelFileEnvironment {
  /** `require(spec)` / `import … from spec` as seen from this file. */
  readonly require: (spec: string) => unknown;
  /** The file's `module.exports` object, filled while it runs. */
  readonly module: { exports: Record<string, unknown> };
  /** Collects the promises of `asyncModule(async () => …)`; absent when async loading is not possible. */
  readonly asyncModules?: Promise<unknown>[];
  readonly compileContext: unknown;
  /** Where definitions go, including those `asyncModule` registers after the file has run. */
  readonly definitions?: RawDefinition[];
}

const importDefault = (m: unknown): unknown =>
  typeof m === 'object' && m !== null && Object.hasOwn(m, 'default') ? (m as Record<string, unknown>).default : m;

export function evaluateModelFile(
  fileName: string,
  code: string,
  sites: readonly TemplateSite[],
  env?: ModelFileEnvironment,
): RawDefinition[] {
  const found: RawDefinition[] = env?.definitions ?? [];
  const register =
    (kind: 'cube' | 'view') =>
    (name: unknown, definition: unknown): void => {
      if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
        throw new ModelError(`${kind}() needs a name that is an identifier, got ${JSON.stringify(String(name))}`, { file: fileName });
      }
      if (!isPlainObject(definition)) {
        throw new ModelError(`${kind}() needs a definition object`, { file: fileName, member: name });
      }
      found.push({ kind, name, fileName, definition });
    };
  const hook = (id: number, fn: (...args: unknown[]) => unknown): RawTemplate => {
    const site = sites[id];
    if (!site) throw new ModelError(`unknown template site ${id}`, { file: fileName });
    return new RawTemplate(fn, site.params, site.path, fileName);
  };
  const module = env?.module ?? { exports: {} };
  const asyncModule = (fn: unknown) => {
    if (typeof fn !== 'function') throw new ModelError('asyncModule() needs an async function', { file: fileName });
    if (!env?.asyncModules) throw new ModelError('asyncModule() needs the asynchronous loader (loadModel)', { file: fileName });
    env.asyncModules.push(
      Promise.resolve()
        .then(() => (fn as () => unknown)())
        .catch((cause: unknown) => {
          throw cause instanceof ModelError ? cause : new ModelError(`asyncModule throws: ${messageOf(cause)}`, { file: fileName }, cause);
        }),
    );
  };
  const requireFn = (spec: unknown) => {
    if (typeof spec !== 'string') throw new ModelError('require() needs a module name', { file: fileName });
    if (!env) throw new ModelError(`require('${spec}') is not available here`, { file: fileName });
    return env.require(spec);
  };

  // String code generation (eval, new Function) is off: model files never need it.
  const context = vm.createContext(
    {
      cube: register('cube'),
      view: register('view'),
      [TEMPLATE_HOOK]: hook,
      [IMPORT_HOOK]: requireFn,
      [IMPORT_DEFAULT_HOOK]: importDefault,
      require: requireFn,
      module,
      exports: module.exports,
      asyncModule,
      COMPILE_CONTEXT: env?.compileContext,
      console,
    },
    { name: fileName, codeGeneration: { strings: false, wasm: false } },
  );
  try {
    new vm.Script(code, { filename: fileName }).runInContext(context, { timeout: EVALUATION_TIMEOUT_MS });
  } catch (cause) {
    if (cause instanceof ModelError) throw cause;
    throw new ModelError(`throws while loading: ${messageOf(cause)}`, { file: fileName }, cause);
  }
  return found;
}
