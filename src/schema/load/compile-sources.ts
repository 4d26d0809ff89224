/**
 * Model files → Model, as Cube's DataSchemaCompiler: Jinja renders YAML files, YAML
 * becomes JS model code, ES modules become scripts; then every file is scanned, its
 * template values wrapped, each file run in its own `vm` (with `require` of files inside
 * the model folder), and the definitions built and checked. Errors name the file, the
 * YAML line where known, and the member.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ModelError } from '../../errors/engine-error.js';
import { attempt } from '../build/read-helpers.js';
import { buildModel } from '../build-model.js';
import { builtinGlobalNames, evaluateModelFile, messageOf, type RawDefinition } from '../evaluate-model-file.js';
import type { Model } from '../model.js';
import { CONTEXT_SYMBOLS, scanModelFile, transpileModelFile, type ModelCall, type ScannedFile } from '../transpile-model-file.js';
import { bareMessage, LocatedModelError } from './located-error.js';
import { EMPTY_COMPILE_CONTEXT, templateCompileContext, type CompileContext } from './compile-context.js';
import { PythonHelperRefusal, pythonHelpers, renderJinja, usesJinja, type JinjaTemplate, type PythonHelper } from './jinja/render-jinja.js';
import { definitionLines } from './js/definition-lines.js';
import { rewriteEsModule } from './js/es-modules.js';
import { lineForLabel, yamlToJs } from './yaml/yaml-to-js.js';

/** One model file's text; `fileName` is how errors name it, `path` its place in the model folder (default: `fileName`). */
export interface ModelSource {
  readonly fileName: string;
  readonly content: string;
  readonly path?: string;
}

export interface CompileOptions {
  readonly compileContext?: CompileContext;
  /** When given, every error is pushed here and compiling goes on as far as it can (`tessera validate`). */
  readonly errors?: ModelError[];
  /**
   * Without `errors`: receives each file left out because its Jinja uses a Python helper, so that
   * everything else loads. Default: a process warning naming the file and the helper.
   */
  readonly onFileLeftOut?: (error: ModelError) => void;
}

const warnLeftOut = (error: ModelError) => process.emitWarning(`${error.message}; this file is not loaded`);

const YAML_FILE = /\.ya?ml(\.jinja)?$/;
const PYTHON_FILE = /\.py$/;
const JS_FILE = /\.(js|mjs|cjs)$/;
/** Node built-ins a model file may `require`: pure helpers, nothing that reaches the file system or network. */
const SAFE_BUILTINS = new Set(['path', 'util', 'url', 'querystring', 'string_decoder', 'assert']);
const hostRequire = createRequire(import.meta.url);

interface Unit {
  readonly fileName: string;
  readonly relPath: string;
  readonly code: string;
  /** Definition and member lines (YAML entries, JS properties), to put a line on errors. */
  lines?: ReadonlyMap<string, number>;
}

const relPathOf = (f: ModelSource) => (f.path ?? f.fileName).split(path.sep).join('/');

/** Jinja + YAML → JS, ES modules → script; `.jinja` macro files and `.py` helpers only feed the others. */
function prepareUnits(files: readonly ModelSource[], ctx: CompileContext, options: CompileOptions): Unit[] {
  const { errors } = options;
  const templates: JinjaTemplate[] = files.filter((f) => /\.(jinja|ya?ml)$/.test(f.fileName)).map((f) => ({ name: relPathOf(f), content: f.content }));
  const python: PythonHelper[] = files.filter((f) => PYTHON_FILE.test(f.fileName)).flatMap((f) => pythonHelpers(f.fileName, f.content));
  const units: Unit[] = [];
  for (const file of files) {
    const relPath = relPathOf(file);
    if (YAML_FILE.test(file.fileName)) {
      const unit = attempt(errors, () => {
        let text: string;
        try {
          text = usesJinja(file.fileName, file.content) ? renderJinja(file.fileName, file.content, { templates, python, compileContext: ctx }) : file.content;
        } catch (cause) {
          // Everything that does not depend on Python loads; the file that does is named, never skipped silently.
          if (!(cause instanceof PythonHelperRefusal) || errors) throw cause;
          (options.onFileLeftOut ?? warnLeftOut)(cause);
          return undefined;
        }
        const { code, lines } = yamlToJs(file.fileName, text);
        return { fileName: file.fileName, relPath, code, lines };
      });
      if (unit) units.push(unit);
    } else if (JS_FILE.test(file.fileName)) {
      const unit = attempt(errors, () => ({ fileName: file.fileName, relPath, code: rewriteEsModule(file.fileName, file.content) }));
      if (unit) units.push(unit);
    }
  }
  return units;
}

let builtins: ReadonlySet<string> | undefined;

/** The shared part of the sync and async loaders: everything up to the evaluated definitions. */
function evaluateUnits(
  units: readonly Unit[],
  ctx: CompileContext,
  errors: ModelError[] | undefined,
  asyncModules: Promise<unknown>[] | undefined,
): RawDefinition[] {
  builtins ??= new Set([...builtinGlobalNames(), 'arguments', 'require', 'module', 'exports', 'asyncModule', 'console']);
  const scanned = new Map<Unit, ScannedFile>();
  for (const unit of units) {
    const file = attempt(errors, () => scanModelFile(unit.fileName, unit.code));
    if (!file) continue;
    scanned.set(unit, file);
    unit.lines ??= definitionLines(file);
  }

  // Model symbols every file can see: cube and view names, and each definition's literal member names.
  const cubeNames = new Set<string>();
  const byName = new Map<string, ModelCall>();
  for (const file of scanned.values()) {
    for (const call of file.calls) {
      if (call.name === undefined) continue;
      cubeNames.add(call.name);
      byName.set(call.name, call);
    }
  }
  const membersWithParents = (call: ModelCall, seen: Set<string>): string[] => {
    const parent = call.extendsName === undefined || seen.has(call.extendsName) ? undefined : byName.get(call.extendsName);
    if (call.name !== undefined) seen.add(call.name);
    return [...call.memberNames, ...(parent ? membersWithParents(parent, seen) : [])];
  };
  const knownFor = (call: ModelCall): ReadonlySet<string> =>
    new Set([...CONTEXT_SYMBOLS, ...cubeNames, ...membersWithParents(call, new Set())]);

  const byPath = new Map(units.map((u) => [u.relPath, u] as const));
  // Model code sees the checked view too: an unsafe value refuses to become SQL text wherever it is used.
  const contextView = templateCompileContext(ctx);
  const modules = new Map<Unit, { exports: Record<string, unknown> }>();
  const definitions: RawDefinition[] = [];

  const run = (unit: Unit): { exports: Record<string, unknown> } => {
    const known = modules.get(unit);
    if (known) return known; // done, or running (a require cycle sees the exports so far, as in Node)
    const module = { exports: {} as Record<string, unknown> };
    modules.set(unit, module);
    const file = scanned.get(unit);
    if (!file) return module;
    const { code, sites } = transpileModelFile(file, knownFor, builtins as ReadonlySet<string>);
    const env = { require: requireFrom(unit), module, compileContext: contextView, definitions, ...(asyncModules ? { asyncModules } : {}) };
    evaluateModelFile(unit.fileName, code, sites, env);
    return module;
  };

  const requireFrom = (unit: Unit) => (spec: string) => {
    const bare = spec.startsWith('node:') ? spec.slice(5) : spec;
    if (SAFE_BUILTINS.has(bare)) return hostRequire(`node:${bare}`) as unknown;
    if (!spec.startsWith('./') && !spec.startsWith('../')) {
      throw new ModelError(`require('${spec}') is not allowed: model files may load files inside the model folder and the built-ins ${[...SAFE_BUILTINS].join(', ')}`, { file: unit.fileName });
    }
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(unit.relPath), spec));
    if (target.startsWith('../')) throw new ModelError(`require('${spec}') points outside the model folder`, { file: unit.fileName });
    const candidates = (t: string) => [t, `${t}.js`, `${t}.mjs`, `${t}.cjs`, `${t}/index.js`];
    // Cube resolves `./x` from the model folder's root, whichever folder the requiring file is in; then the file's own folder.
    const fromRoot = spec.startsWith('./') ? candidates(path.posix.normalize(spec)) : [];
    const found = [...fromRoot, ...candidates(target)].map((p) => byPath.get(p)).find(Boolean);
    if (!found) throw new ModelError(`require('${spec}'): no such model file`, { file: unit.fileName });
    return run(found).exports;
  };

  for (const unit of units) attempt(errors, () => run(unit));
  return definitions;
}

/** Puts the line on an error about a cube or member of a file whose lines are known. */
function locate(error: ModelError, units: readonly Unit[]): ModelError {
  if (error instanceof LocatedModelError && error.line !== undefined) return error;
  const unit = units.find((u) => u.fileName === error.file && u.lines);
  const line = unit?.lines ? lineForLabel(unit.lines, error.member) : undefined;
  if (line === undefined || !unit) return error;
  return new LocatedModelError(bareMessage(error), { file: unit.fileName, line, member: error.member }, error.cause ?? error);
}

/** A digest of the model files: two compiles of the same files and context share a version. */
export function modelVersion(files: readonly ModelSource[], ctx: CompileContext): string {
  const hash = createHash('sha256');
  for (const f of [...files].sort((a, b) => relPathOf(a).localeCompare(relPathOf(b)))) hash.update(`${relPathOf(f)}\0${f.content}\0`);
  if (ctx !== EMPTY_COMPILE_CONTEXT) hash.update(JSON.stringify(ctx.securityContext));
  return hash.digest('hex').slice(0, 16);
}

function finish(files: readonly ModelSource[], units: readonly Unit[], definitions: readonly RawDefinition[], options: CompileOptions): Model {
  const ctx = options.compileContext ?? EMPTY_COMPILE_CONTEXT;
  const collected: ModelError[] = [];
  const model = buildModel(definitions, { compileContext: ctx, version: modelVersion(files, ctx), errors: options.errors ? collected : undefined });
  for (let i = 0; i < collected.length; i++) collected[i] = locate(collected[i] as ModelError, units);
  options.errors?.push(...collected);
  return model;
}

function compileSync(files: readonly ModelSource[], options: CompileOptions): Model {
  const ctx = options.compileContext ?? EMPTY_COMPILE_CONTEXT;
  const units = prepareUnits(files, ctx, options);
  try {
    return finish(files, units, evaluateUnits(units, ctx, options.errors, undefined), options);
  } catch (cause) {
    throw cause instanceof ModelError ? locate(cause, units) : cause;
  }
}

/** Builds the Model from model files, synchronously (no `asyncModule`). */
export function compileModelSources(files: readonly ModelSource[], options: CompileOptions = {}): Model {
  return compileSync(files, options);
}

/** Builds the Model from model files, waiting for `asyncModule` definitions. */
export async function compileModelSourcesAsync(files: readonly ModelSource[], options: CompileOptions = {}): Promise<Model> {
  const ctx = options.compileContext ?? EMPTY_COMPILE_CONTEXT;
  const units = prepareUnits(files, ctx, options);
  try {
    const asyncModules: Promise<unknown>[] = [];
    const definitions = evaluateUnits(units, ctx, options.errors, asyncModules);
    // asyncModule bodies may themselves call asyncModule.
    for (let done = 0; done < asyncModules.length; done++) {
      await attemptAsync(options.errors, asyncModules[done] as Promise<unknown>);
    }
    return finish(files, units, definitions, options);
  } catch (cause) {
    throw cause instanceof ModelError ? locate(cause, units) : cause;
  }
}

async function attemptAsync(errors: ModelError[] | undefined, p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (cause) {
    if (!errors) throw cause;
    errors.push(cause instanceof ModelError ? cause : new ModelError(messageOf(cause), {}, cause));
  }
}
