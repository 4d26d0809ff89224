/**
 * Lines of a JS model file's definitions and members (`Orders`, `Orders.count`,
 * `Orders.joins.Users`), so that errors about them can name the line.
 */
import type { ScannedFile } from '../../transpile-model-file.js';

interface LooseNode {
  readonly type: string;
  readonly start: number;
  readonly [key: string]: any;
}

const MEMBER_MAPS = new Set(['measures', 'dimensions', 'segments', 'joins', 'hierarchies', 'preAggregations', 'pre_aggregations']);

function keyName(prop: LooseNode): string | undefined {
  if (prop.type !== 'Property' || prop.computed) return undefined;
  if (prop.key.type === 'Identifier') return prop.key.name as string;
  if (prop.key.type === 'Literal') return String(prop.key.value);
  return undefined;
}

export function definitionLines(file: ScannedFile): Map<string, number> {
  const starts: number[] = [0];
  for (let i = 0; i < file.source.length; i++) if (file.source.charCodeAt(i) === 10) starts.push(i + 1);
  const lineAt = (offset: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const lines = new Map<string, number>();
  for (const call of file.calls) {
    const def = call.definition as LooseNode | undefined;
    if (call.name === undefined || !def) continue;
    lines.set(call.name, lineAt(def.start));
    for (const prop of def.properties as LooseNode[]) {
      const key = keyName(prop);
      if (key === undefined || prop.value.type !== 'ObjectExpression' || !MEMBER_MAPS.has(key)) continue;
      for (const member of prop.value.properties as LooseNode[]) {
        const name = keyName(member);
        if (name === undefined) continue;
        lines.set(key === 'joins' ? `${call.name}.joins.${name}` : `${call.name}.${name}`, lineAt(member.start));
      }
    }
  }
  return lines;
}
