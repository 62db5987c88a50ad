import { describe, expect, it } from 'vitest';
import { parseBox, parseFlags, parsePoint, required } from './args.js';
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
