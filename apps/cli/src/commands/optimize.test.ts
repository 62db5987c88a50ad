import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_F1_DROP } from '@samtune/quantize-ptq';
import { UsageError } from '../command.js';
import { COMMANDS } from './index.js';
import { MAX_F1_DROP, optimizeCommand, parseOptimizeArgs } from './optimize.js';

describe('samtune optimize flags', () => {
  it('parses the flags with their defaults', () => {
    expect(parseOptimizeArgs(['--model', 'out/m', '--data-root', 'd'])).toMatchObject({
      model: 'out/m',
      'data-root': 'd',
      'subset-size': 100,
      'max-f1-drop': DEFAULT_MAX_F1_DROP,
      method: 'minmax',
      dynamic: false,
      'latency-runs': 20,
      'prompts-per-image': 4,
      seed: 0,
    });
    const a = parseOptimizeArgs([
      '--model',
      'm',
      '--data-root',
      'd',
      '--subset-size',
      '16',
      '--max-f1-drop',
      '0.5',
      '--method',
      'percentile',
      '--percentile',
      '99.9',
      '--dynamic',
      '--only',
      'decoder',
      '--threads',
      '4',
      '--ops',
      'MatMul,Conv',
      '--activation-matmul',
    ]);
    expect(a).toMatchObject({
      'subset-size': 16,
      'max-f1-drop': 0.5,
      method: 'percentile',
      percentile: 99.9,
      dynamic: true,
      only: 'decoder',
      threads: 4,
      ops: ['MatMul', 'Conv'],
      'activation-matmul': true,
    });
  });

  it('refuses bad flags with a UsageError that names them', () => {
    expect(() => parseOptimizeArgs(['--data-root', 'd'])).toThrow(/missing required flag --model/);
    expect(() => parseOptimizeArgs(['--model', 'm', '--data-root', 'd', '--latency-runs', '5'])).toThrow(
      "--latency-runs '5': expected an integer >= 20",
    );
    expect(() => parseOptimizeArgs(['--model', 'm', '--data-root', 'd', '--method', 'kl'])).toThrow(UsageError);
    expect(() => parseOptimizeArgs(['--model', 'm', '--data-root', 'd', '--ops', 'MatMul,Relu'])).toThrow(
      "--ops 'MatMul,Relu': expected a comma-separated list of MatMul, Gemm, Conv or ConvTranspose",
    );
    expect(() => parseOptimizeArgs(['--model', 'm', '--data-root', 'd', '--max-f1-drop=-1'])).toThrow(
      "--max-f1-drop '-1': expected a number of F1 points >= 0",
    );
  });

  it('shows the package default of --max-f1-drop', () => {
    expect(MAX_F1_DROP).toBe(DEFAULT_MAX_F1_DROP);
    expect(optimizeCommand.usage).toMatch(/--max-f1-drop <points> +accuracy gate .*\(default 1\)/);
  });

  it('is registered', () => {
    expect(COMMANDS).toContain(optimizeCommand);
  });
});
