/**
 * Jinja in YAML model files, rendered with minijinja (the engine Cube uses) before the
 * YAML is parsed: `{{ }}`, `{% set/for/if %}`, macros and `{% import %}` of any `.jinja`,
 * `.yml` or `.yaml` file under the model folder (by its path from the folder).
 * Python helpers (`@template.function` in `.py` files) cannot run in Node: each one is
 * registered as a marker, and a file whose output uses a marker is refused naming the
 * Python file and the function.
 */
import { Environment } from 'minijinja-js';
import { LocatedModelError } from '../located-error.js';
import type { CompileContext } from '../compile-context.js';
import { checkCompileContextPaths } from '../compile-context.js';

/** A template other files may import, by its path from the model folder (`macros/common.jinja`). */
export interface JinjaTemplate {
  readonly name: string;
  readonly content: string;
}

/** A function, filter or variable a `.py` file registers with Cube's `TemplateContext`. */
export interface PythonHelper {
  readonly kind: 'function' | 'filter' | 'variable';
  readonly name: string;
  readonly file: string;
}

const JINJA_SYNTAX = /\{%|\{\{|\{#/;
const PY_DECORATOR = /@(?:\w+\.)?(function|filter|variable)(?:\(\s*(?:name\s*=\s*)?(?:['"]([^'"]+)['"])?\s*\))?\s*\n\s*def\s+([_a-zA-Z]\w*)/g;
const MARKER = /__tessera_python_(\d+)__/;

export function usesJinja(fileName: string, content: string): boolean {
  return /\.jinja$/.test(fileName) || JINJA_SYNTAX.test(content);
}

/** The helpers a Python model file registers (`@template.function('name')` above a `def`). */
export function pythonHelpers(file: string, content: string): PythonHelper[] {
  const out: PythonHelper[] = [];
  for (const m of content.matchAll(PY_DECORATOR)) {
    out.push({ kind: m[1] as PythonHelper['kind'], name: m[2] ?? (m[3] as string), file });
  }
  return out;
}

/** `… (in orders.yml.txt:12)` → 12. */
function jinjaLine(message: string): number | undefined {
  const m = /\(in [^\n]*?:(\d+)\)/.exec(message);
  return m ? Number(m[1]) : undefined;
}

export interface JinjaOptions {
  readonly templates: readonly JinjaTemplate[];
  readonly python: readonly PythonHelper[];
  readonly compileContext: CompileContext;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The first Python helper a file's Jinja blocks (`{{ }}`, `{% %}`) use, with its line. */
function pythonHelperUse(content: string, helpers: readonly PythonHelper[]): { helper: PythonHelper; line: number } | undefined {
  for (const block of content.matchAll(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g)) {
    for (const helper of helpers) {
      const name = escapeRegExp(helper.name);
      const use =
        helper.kind === 'function'
          ? new RegExp(`(^|[^\\w.])${name}\\s*\\(`)
          : helper.kind === 'filter'
            ? new RegExp(`\\|\\s*${name}\\b`)
            : new RegExp(`(^|[^\\w.])${name}\\b`);
      const found = use.exec(block[0]);
      if (found) return { helper, line: content.slice(0, (block.index ?? 0) + found.index).split('\n').length };
    }
  }
  return undefined;
}

function pythonRefusal(fileName: string, helper: PythonHelper, line: number | undefined): LocatedModelError {
  return new LocatedModelError(
    `uses the Python ${helper.kind} '${helper.name}' from ${helper.file}, which Tessera cannot run; rewrite it as a Jinja macro`,
    { file: fileName, line },
  );
}

/** Renders one model file's Jinja; `fileName` is how errors name it. */
export function renderJinja(fileName: string, content: string, options: JinjaOptions): string {
  checkCompileContextPaths(fileName, content, options.compileContext);
  // A helper's result may vanish from the output (`{% set m = dbt_model('x') %}{{ m.table }}`), so its use is found in the source.
  const use = pythonHelperUse(content, options.python);
  if (use) throw pythonRefusal(fileName, use.helper, use.line);
  // A fresh environment per file: a panic inside the WASM engine would poison a shared one.
  const env = new Environment();
  // Cube renders with Python's Jinja semantics: `'x'.endswith('d')`, `dict.items()`.
  env.enablePyCompat();
  for (const t of options.templates) {
    // Macro files always (they may import each other); another model file only when this one names it.
    if (!t.name.endsWith('.jinja') && !content.includes(t.name)) continue;
    try {
      env.addTemplate(t.name, t.content);
    } catch {
      // A file that does not parse reports its own error when it is rendered; importing it fails as not found.
    }
  }
  env.addGlobal('COMPILE_CONTEXT', options.compileContext);
  options.python.forEach((helper, i) => {
    const marker = `__tessera_python_${i}__`;
    // Never throw from a callback: minijinja's WASM runtime does not survive it.
    if (helper.kind === 'variable') env.addGlobal(helper.name, marker);
    else if (helper.kind === 'filter') env.addFilter(helper.name, () => marker);
    else env.addGlobal(helper.name, () => marker);
  });
  let out: string;
  try {
    // The `.txt` name turns off minijinja's JSON auto-escaping of `.yml` output.
    out = env.renderNamedStr(`${fileName}.txt`, content, {});
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    const line = jinjaLine(message);
    const first = (message.split('\n')[0] ?? '').replace(/ \(in [^\n]*\)$/, '');
    throw new LocatedModelError(`Jinja error: ${first}`, { file: fileName, line }, cause);
  } finally {
    env.free();
  }
  const used = MARKER.exec(out);
  // Reached through a macro of another file: name the helper, without a line in this file.
  if (used) throw pythonRefusal(fileName, options.python[Number(used[1])] as PythonHelper, undefined);
  return out;
}
