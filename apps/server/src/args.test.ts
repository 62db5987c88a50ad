import { describe, expect, it } from 'vitest';
import { parseServerArgs, UsageError } from './args.js';

describe('parseServerArgs', () => {
  it('applies the defaults and reads every flag', () => {
    expect(parseServerArgs(['--checkpoint', 'tiny_vit'])).toEqual({
      checkpoint: 'tiny_vit',
      port: 8080,
      host: '127.0.0.1',
      cache: 16,
      help: false,
    });
    expect(
      parseServerArgs([
        '--checkpoint',
        'runs/x/best.safetensors',
        '--port',
        '0',
        '--host',
        '0.0.0.0',
        '--images',
        'data',
        '--cache',
        '4',
      ]),
    ).toEqual({
      checkpoint: 'runs/x/best.safetensors',
      port: 0,
      host: '0.0.0.0',
      images: 'data',
      cache: 4,
      help: false,
    });
  });

  it('names the bad flag', () => {
    expect(() => parseServerArgs([])).toThrow(new UsageError('--checkpoint: required (a checkpoint name or path)'));
    expect(() => parseServerArgs(['--checkpoint', 'a', '--port', '70000'])).toThrow(
      "--port: expected an integer in [0, 65535], got '70000'",
    );
    expect(() => parseServerArgs(['--checkpoint', 'a', '--cache', '-1'])).toThrow(UsageError);
    expect(() => parseServerArgs(['--checkpoint', 'a', '--bogus'])).toThrow(/Unknown option '--bogus'/);
    expect(parseServerArgs(['--help']).help).toBe(true);
  });
});
