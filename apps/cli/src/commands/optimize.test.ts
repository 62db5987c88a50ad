import { describe, expect, it } from 'vitest';
import { UsageError } from '../command.js';
import { COMMANDS } from './index.js';
import { optimizeCommand, parseOptimizeArgs } from './optimize.js';

describe('samtune optimize flags', () => {
  it('parses the flags with their defaults', () => {
    expect(parseOptimizeArgs(['--model', 'out/m', '--data-root', 'd'])).toMatchObject({
      model: 'out/m',
      dataRoot: 'd',
      subsetSize: 100,
      maxF1Drop: 1,
      method: 'minmax',
      dynamic: false,
      latencyRuns: 20,
      promptsPerImage: 4,
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
      subsetSize: 16,
      maxF1Drop: 0.5,
      method: 'percentile',
      percentile: 99.9,
      dynamic: true,
      only: 'decoder',
      threads: 4,
      ops: ['MatMul', 'Conv'],
      activationMatMul: true,
    });
  });

  it('refuses bad flags with a UsageError that names them', () => {
    expect(() => parseOptimizeArgs(['--data-root', 'd'])).toThrow(/--model is required/);
    expect(() => parseOptimizeArgs(['--model', 'm', '--data-root', 'd', '--latency-runs', '5'])).toThrow(
      /--latency-runs must be an integer >= 20, got '5'/,
    );
    expect(() => parseOptimizeArgs(['--model', 'm', '--data-root', 'd', '--method', 'kl'])).toThrow(UsageError);
    expect(() => parseOptimizeArgs(['--model', 'm', '--data-root', 'd', '--ops', 'MatMul,Relu'])).toThrow(
      /--ops must list op types among MatMul,Gemm,Conv,ConvTranspose, got 'MatMul,Relu'/,
    );
    expect(() => parseOptimizeArgs(['--model', 'm', '--data-root', 'd', '--max-f1-drop=-1'])).toThrow(
      /--max-f1-drop must be a number of F1 points >= 0/,
    );
  });

  it('is registered', () => {
    expect(COMMANDS).toContain(optimizeCommand);
  });
});
