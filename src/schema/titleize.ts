/**
 * Cube's title derivation (`CubeToMetaTransformer.titleize`), with the same libraries,
 * so `/meta` titles match Cube's exactly: `totalAmount` → `Total Amount`.
 */
import camelCase from 'camelcase';
import { titleize as inflectionTitleize, underscore } from 'inflection';

/** `total_amount` / `totalAmount` → `Total Amount`. */
export function titleize(name: string): string {
  return inflectionTitleize(underscore(camelCase(name, { pascalCase: true })));
}
