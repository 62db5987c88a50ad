import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { checkSchema, SchemaValidationError } from './schema.js';

const Config = Type.Object({
  training: Type.Object({ lr: Type.Number({ exclusiveMinimum: 0 }), epochs: Type.Integer({ minimum: 1 }) }),
  name: Type.String(),
});

describe('checkSchema', () => {
  it('returns a conforming value typed', () => {
    const v = checkSchema(Config, { training: { lr: 1e-4, epochs: 3 }, name: 'x' }, 'load(config)');
    expect(v.training.epochs).toBe(3);
  });

  it('lists every problem with its path, the rule and the value', () => {
    let err: unknown;
    try {
      checkSchema(Config, { training: { lr: -1, epochs: 2.5 } }, 'load(config): my.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SchemaValidationError);
    const e = err as SchemaValidationError;
    expect(e.kind).toBe('input');
    expect(e.code).toBe('schema-validation');
    expect(e.problems.map((p) => p.path).sort()).toEqual(['name', 'training.epochs', 'training.lr']);
    expect(e.message).toMatch(/^load\(config\): my\.yaml: /);
    expect(e.message).toContain('training.lr must be > 0, got -1');
    expect(e.message).toContain('training.epochs must be integer, got 2.5');
    expect(e.message).toContain('name is required');
  });
});
