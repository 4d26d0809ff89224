/**
 * A small JSON Schema (2020-12) checker for the keywords zod's generator emits,
 * so tests hold real responses against the published /openapi.json itself.
 * Returns the first few mismatches as `path: reason`.
 */
type Schema = Record<string, unknown> | boolean;

export function checkJsonSchema(value: unknown, schema: Schema, root: { components?: { schemas?: Record<string, Schema> } }, path = '$'): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: no value is allowed`];
  const s = schema;
  const errors: string[] = [];
  const fail = (reason: string) => errors.push(`${path}: ${reason}`);
  if (typeof s.$ref === 'string') {
    const name = /^#\/components\/schemas\/(.+)$/.exec(s.$ref)?.[1];
    const target = name ? root.components?.schemas?.[name] : undefined;
    if (target === undefined) return [`${path}: unresolved $ref ${s.$ref}`];
    errors.push(...checkJsonSchema(value, target, root, path));
  }
  if (Array.isArray(s.anyOf) && !s.anyOf.some((sub) => checkJsonSchema(value, sub as Schema, root, path).length === 0)) fail('matches none of anyOf');
  if (Array.isArray(s.oneOf) && s.oneOf.filter((sub) => checkJsonSchema(value, sub as Schema, root, path).length === 0).length !== 1) fail('does not match exactly one of oneOf');
  if (Array.isArray(s.allOf)) for (const sub of s.allOf) errors.push(...checkJsonSchema(value, sub as Schema, root, path));
  if ('const' in s && JSON.stringify(value) !== JSON.stringify(s.const)) fail(`is not ${JSON.stringify(s.const)}`);
  if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) fail(`${JSON.stringify(value)} is not one of the enum`);
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => typeMatches(value, t))) {
      fail(`is ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}, not ${types.join('|')}`);
      return errors;
    }
  }
  if (typeof value === 'string') {
    if (typeof s.maxLength === 'number' && value.length > s.maxLength) fail('is too long');
    if (typeof s.minLength === 'number' && value.length < s.minLength) fail('is too short');
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) fail(`does not match ${s.pattern}`);
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) fail('is below the minimum');
    if (typeof s.maximum === 'number' && value > s.maximum) fail('is above the maximum');
  }
  if (Array.isArray(value)) {
    const prefix = Array.isArray(s.prefixItems) ? (s.prefixItems as Schema[]) : [];
    prefix.forEach((sub, i) => i < value.length && errors.push(...checkJsonSchema(value[i], sub, root, `${path}[${i}]`)));
    if (s.items !== undefined) value.slice(prefix.length).forEach((v, i) => errors.push(...checkJsonSchema(v, s.items as Schema, root, `${path}[${i + prefix.length}]`)));
    if (typeof s.minItems === 'number' && value.length < s.minItems) fail('has too few items');
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) fail('has too many items');
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, Schema>;
    for (const key of (s.required ?? []) as string[]) if (!(key in obj)) fail(`misses required property ${key}`);
    for (const [key, v] of Object.entries(obj)) {
      if (key in props) errors.push(...checkJsonSchema(v, props[key]!, root, `${path}.${key}`));
      else if (s.additionalProperties !== undefined) errors.push(...checkJsonSchema(v, s.additionalProperties as Schema, root, `${path}.${key}`));
      if (s.propertyNames !== undefined) errors.push(...checkJsonSchema(key, s.propertyNames as Schema, root, `${path}{${key}}`));
    }
  }
  return errors.slice(0, 5);
}

function typeMatches(value: unknown, type: string): boolean {
  switch (type) {
    case 'null': return value === null;
    case 'array': return Array.isArray(value);
    case 'object': return value !== null && typeof value === 'object' && !Array.isArray(value);
    case 'integer': return Number.isInteger(value);
    case 'number': return typeof value === 'number';
    default: return typeof value === type;
  }
}
