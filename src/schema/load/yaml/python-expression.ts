/**
 * The expressions inside a YAML template's `{…}` are Python, as in Cube's YAML compiler:
 * `FILTER_PARAMS.orders.created_at.filter('created_at')`, `True`, `lambda a, b: f'{a} >= {b}'`.
 * This turns the subset model files use into the equivalent JavaScript expression text.
 */

const WORDS: Readonly<Record<string, string>> = { True: 'true', False: 'false', None: 'null', and: '&&', or: '||', not: '!', is: '===' };

/** Escapes literal text for a JS template literal. */
export function templateText(text: string): string {
  return text.replace(/[\\`$]/g, (c) => `\\${c}`);
}

/** Where the `{…}` that opens at `open` closes (balanced, skipping quoted strings); -1 when it does not. */
export function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) return -1;
      i = end;
    } else if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** A Python f-string body (`{a} >= {b}`) → a JS template literal. */
function fString(body: string): string {
  let out = '`';
  let i = 0;
  while (i < body.length) {
    const open = body.indexOf('{', i);
    if (open < 0) break;
    if (body[open + 1] === '{') {
      out += `${templateText(body.slice(i, open))}{`;
      i = open + 2;
      continue;
    }
    const close = closingBrace(body, open);
    if (close < 0) break;
    out += `${templateText(body.slice(i, open))}\${${pythonToJs(body.slice(open + 1, close))}}`;
    i = close + 1;
  }
  return `${out}${templateText(body.slice(i).replace(/\}\}/g, '}'))}\``;
}

/** Translates one Python expression to JavaScript. */
export function pythonToJs(expr: string): string {
  let out = '';
  // Open lambdas: the bracket depth at which each one's body ends.
  const lambdas: number[] = [];
  let depth = 0;
  const closeLambdas = (atDepth: number) => {
    while (lambdas.length > 0 && lambdas[lambdas.length - 1] === atDepth) {
      lambdas.pop();
      out += '))';
    }
  };
  let i = 0;
  while (i < expr.length) {
    const c = expr[i] as string;
    const fPrefix = /^[fF]['"]/.test(expr.slice(i, i + 2));
    if (c === "'" || c === '"' || fPrefix) {
      const quoteAt = fPrefix ? i + 1 : i;
      const quote = expr[quoteAt] as string;
      const end = expr.indexOf(quote, quoteAt + 1);
      const stop = end < 0 ? expr.length : end;
      const body = expr.slice(quoteAt + 1, stop);
      out += fPrefix ? fString(body) : JSON.stringify(body);
      i = stop + 1;
      continue;
    }
    const word = /^[_a-zA-Z][_a-zA-Z0-9]*/.exec(expr.slice(i))?.[0];
    if (word !== undefined) {
      const prev = out.trimEnd().slice(-1);
      if (word === 'lambda') {
        const colon = expr.indexOf(':', i);
        const params = expr.slice(i + word.length, colon < 0 ? expr.length : colon).trim();
        out += `((${params}) => (`;
        lambdas.push(depth);
        i = colon < 0 ? expr.length : colon + 1;
        while (expr[i] === ' ') i++;
        continue;
      }
      const isNot = word === 'is' && /^\s+not\b/.test(expr.slice(i + 2));
      if (isNot) {
        out += '!==';
        i = expr.indexOf('not', i + 2) + 3;
        continue;
      }
      out += prev === '.' || !Object.hasOwn(WORDS, word) ? word : WORDS[word];
      i += word.length;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    if (c === ')' || c === ']' || c === '}') {
      closeLambdas(depth);
      depth--;
    }
    if (c === ',') closeLambdas(depth);
    out += c;
    i++;
  }
  closeLambdas(depth);
  return out.trim();
}

/**
 * A YAML template string → JS expression text: `{CUBE}.amount` → `` `${CUBE}.amount` ``.
 * A string that is exactly one `{expr}` becomes the bare expression, so that a policy
 * `if: "{ securityContext.is_admin }"` keeps the value's type as JS `if: securityContext.is_admin` does.
 */
export function yamlTemplateToJs(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') && closingBrace(trimmed, 0) === trimmed.length - 1 && !trimmed.startsWith('{{')) {
    return pythonToJs(trimmed.slice(1, -1));
  }
  let out = '`';
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{', i);
    if (open < 0) break;
    const close = closingBrace(text, open);
    if (close < 0) break;
    out += `${templateText(text.slice(i, open))}\${${pythonToJs(text.slice(open + 1, close))}}`;
    i = close + 1;
  }
  return `${out}${templateText(text.slice(i))}\``;
}
