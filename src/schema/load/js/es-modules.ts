/**
 * ES module syntax in model files (`import { money } from './helpers'`, `export const …`),
 * rewritten to the `__tesseraImport$` / `exports` calls the model `vm` provides, keeping
 * every line where it was so that positions in errors stay right.
 */
import { parse, type Node } from 'acorn';
import { ModelError } from '../../../errors/engine-error.js';

export const IMPORT_HOOK = '__tesseraImport$';
export const IMPORT_DEFAULT_HOOK = '__tesseraDefault$';

// acorn's ESTree nodes, loosely typed.
interface AnyNode extends Node {
  [key: string]: any;
}

const MODULE_SYNTAX = /(^|[\s;])(import|export)[\s{*]/m;

/** Names a declaration binds (`const {a, b: [c]} = …`, `function f`, `class C`). */
function declaredNames(decl: AnyNode): string[] {
  if (decl.type === 'FunctionDeclaration' || decl.type === 'ClassDeclaration') return decl.id ? [decl.id.name] : [];
  const names: string[] = [];
  const pattern = (p: AnyNode | null): void => {
    if (!p) return;
    if (p.type === 'Identifier') names.push(p.name);
    else if (p.type === 'ObjectPattern') for (const prop of p.properties) pattern(prop.type === 'RestElement' ? prop.argument : prop.value);
    else if (p.type === 'ArrayPattern') for (const el of p.elements) pattern(el);
    else if (p.type === 'RestElement') pattern(p.argument);
    else if (p.type === 'AssignmentPattern') pattern(p.left);
  };
  for (const d of decl.declarations ?? []) pattern(d.id);
  return names;
}

const nameOf = (n: AnyNode): string => (n.type === 'Literal' ? String(n.value) : (n.name as string));

/** Rewrites `import` / `export` into script code; a file without them is returned as it is. */
export function rewriteEsModule(fileName: string, source: string): string {
  if (!MODULE_SYNTAX.test(source)) return source;
  let ast: AnyNode;
  try {
    ast = parse(source, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true }) as AnyNode;
  } catch {
    // Not a module after all: the script parse reports the real error with its position.
    return source;
  }
  const edits: { start: number; end: number; text: string }[] = [];
  const tail: string[] = [];
  const replace = (node: AnyNode, text: string) => {
    const newlines = source.slice(node.start, node.end).split('\n').length - 1;
    edits.push({ start: node.start, end: node.end, text: text + '\n'.repeat(newlines) });
  };
  const load = (src: AnyNode) => `${IMPORT_HOOK}(${JSON.stringify(src.value)})`;
  let hasModuleSyntax = false;
  ast.body.forEach((node: AnyNode, i: number) => {
    const temp = `__tesseraModule${i}$`;
    switch (node.type) {
      case 'ImportDeclaration': {
        hasModuleSyntax = true;
        const parts = [`const ${temp} = ${load(node.source)};`];
        for (const s of node.specifiers as AnyNode[]) {
          if (s.type === 'ImportDefaultSpecifier') parts.push(`const ${s.local.name} = ${IMPORT_DEFAULT_HOOK}(${temp});`);
          else if (s.type === 'ImportNamespaceSpecifier') parts.push(`const ${s.local.name} = ${temp};`);
          else parts.push(`const ${s.local.name} = ${temp}[${JSON.stringify(nameOf(s.imported))}];`);
        }
        replace(node, parts.join(' '));
        break;
      }
      case 'ExportNamedDeclaration': {
        hasModuleSyntax = true;
        if (node.declaration) {
          edits.push({ start: node.start, end: node.declaration.start, text: '' });
          for (const name of declaredNames(node.declaration)) tail.push(`exports.${name} = ${name};`);
        } else if (node.source) {
          const parts = [`const ${temp} = ${load(node.source)};`];
          for (const s of node.specifiers as AnyNode[]) parts.push(`exports[${JSON.stringify(nameOf(s.exported))}] = ${temp}[${JSON.stringify(nameOf(s.local))}];`);
          replace(node, parts.join(' '));
        } else {
          for (const s of node.specifiers as AnyNode[]) tail.push(`exports[${JSON.stringify(nameOf(s.exported))}] = ${nameOf(s.local)};`);
          replace(node, '');
        }
        break;
      }
      case 'ExportDefaultDeclaration': {
        hasModuleSyntax = true;
        const decl = node.declaration as AnyNode;
        if ((decl.type === 'FunctionDeclaration' || decl.type === 'ClassDeclaration') && decl.id) {
          edits.push({ start: node.start, end: decl.start, text: '' });
          tail.push(`exports.default = ${decl.id.name};`);
        } else {
          edits.push({ start: node.start, end: decl.start, text: 'exports.default = (' });
          edits.push({ start: decl.end, end: decl.end, text: ')' });
        }
        break;
      }
      case 'ExportAllDeclaration':
        hasModuleSyntax = true;
        replace(
          node,
          node.exported
            ? `exports[${JSON.stringify(nameOf(node.exported))}] = ${load(node.source)};`
            : `Object.assign(exports, ${load(node.source)});`,
        );
        break;
      default:
        break;
    }
  });
  if (!hasModuleSyntax) return source;
  if (edits.some((e) => e.start < 0)) throw new ModelError('cannot be rewritten as a module', { file: fileName });
  let code = source;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) code = code.slice(0, e.start) + e.text + code.slice(e.end);
  return tail.length > 0 ? `${code}\n${tail.join(' ')}` : code;
}
