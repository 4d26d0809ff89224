/** The value tables of Cube's model: measure and dimension types, relationships, formats, intervals. */
import type { DimensionType, MeasureType, Relationship, RollingWindow } from '../model.js';
import { keySet } from './read-helpers.js';

export interface MeasureTypeInfo {
  /** Needs a primary key when its cube takes part in a join (Cube's JoinGraph rule). */
  readonly additive: boolean;
  /** Aggregates its sql, so that sql must not reference other measures. */
  readonly aggregate: boolean;
}
export const MEASURE_TYPES: Readonly<Record<MeasureType, MeasureTypeInfo>> = {
  count: { additive: true, aggregate: true },
  countDistinct: { additive: false, aggregate: true },
  countDistinctApprox: { additive: false, aggregate: true },
  sum: { additive: true, aggregate: true },
  avg: { additive: true, aggregate: true },
  min: { additive: false, aggregate: true },
  max: { additive: false, aggregate: true },
  number: { additive: true, aggregate: false },
  string: { additive: false, aggregate: false },
  time: { additive: false, aggregate: false },
  boolean: { additive: false, aggregate: false },
};
export const DIMENSION_TYPES: Readonly<Record<DimensionType, true>> = { string: true, number: true, time: true, boolean: true };
export const RELATIONSHIPS: Readonly<Record<string, Relationship>> = {
  belongsTo: 'belongsTo',
  belongs_to: 'belongsTo',
  many_to_one: 'belongsTo',
  manyToOne: 'belongsTo',
  hasMany: 'hasMany',
  has_many: 'hasMany',
  one_to_many: 'hasMany',
  oneToMany: 'hasMany',
  hasOne: 'hasOne',
  has_one: 'hasOne',
  one_to_one: 'hasOne',
  oneToOne: 'hasOne',
};
export const MEASURE_FORMATS = keySet('percent', 'currency', 'number');
export const DIMENSION_FORMATS = keySet('imageUrl', 'link', 'currency', 'percent', 'number', 'id');
export const ROLLING_TYPES: Readonly<Record<NonNullable<RollingWindow['type']>, true>> = {
  fixed: true,
  to_date: true,
  year_to_date: true,
  quarter_to_date: true,
  month_to_date: true,
};
export const TIME_INTERVAL = /^(unbounded|-?\d+ (second|minute|hour|day|week|month|quarter|year)s?)$/;

