import { describe, expect, it } from 'vitest';
import { parseBox, parseFlags, parsePoint, redisUrl, required } from './args.js';
import { UsageError } from './command.js';

describe('cli args', () => {
  it('parses points and boxes in pixels', () => {
    expect(parsePoint('400,293.7,1')).toEqual({ x: 400, y: 293.7, label: 1 });
    expect(parseBox('160, 133.5, 560, 480.6')).toEqual([160, 133.5, 560, 480.6]);
  });
  it('rejects malformed prompts and flags with UsageError', () => {
    expect(() => parsePoint('1,2')).toThrow(/--point '1,2': expected x,y,label/);
    expect(() => parsePoint('1,2,5')).toThrow(/label must be 1 \(foreground\) or 0 \(background\), got 5/);
    expect(() => parseBox('5,5,1,9')).toThrow(/needs x0 < x1/);
    expect(() => parseFlags(['--nope'], { out: { type: 'string' } })).toThrow(UsageError);
    expect(() => required(undefined, 'out')).toThrow(/missing required flag --out/);
    expect(
      parseFlags(['--out', 'x', '--multimask'], { out: { type: 'string' }, multimask: { type: 'boolean' } }),
    ).toEqual({ out: 'x', multimask: true });
  });
});

describe('--redis', () => {
  it('comes from the flag, else SAMTUNE_REDIS_URL (a password stays out of the process list)', () => {
    const saved = process.env.SAMTUNE_REDIS_URL;
    try {
      delete process.env.SAMTUNE_REDIS_URL;
      expect(() => redisUrl(undefined)).toThrow(
        new UsageError('missing required flag --redis (or SAMTUNE_REDIS_URL in the environment)'),
      );
      process.env.SAMTUNE_REDIS_URL = 'redis://:secret@10.0.0.5:6379';
      expect(redisUrl(undefined)).toBe('redis://:secret@10.0.0.5:6379');
      expect(redisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    } finally {
      if (saved === undefined) delete process.env.SAMTUNE_REDIS_URL;
      else process.env.SAMTUNE_REDIS_URL = saved;
    }
  });
});
