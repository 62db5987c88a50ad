import { describe, expect, it } from 'vitest';
import { parseServerArgs, UsageError } from './args.js';

describe('parseServerArgs', () => {
  it('applies the defaults and reads every flag', () => {
    const defaults = { int8: false, allowHosts: [], queue: 32, maxMegapixels: 40, help: false };
    expect(parseServerArgs(['--checkpoint', 'tiny_vit'])).toEqual({
      checkpoint: 'tiny_vit',
      port: 8080,
      host: '127.0.0.1',
      cache: 16,
      ...defaults,
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
        '--token',
        'a-long-enough-secret',
        '--allow-host',
        'labeler.lan',
        '--queue',
        '8',
        '--max-megapixels',
        '100',
      ]),
    ).toEqual({
      checkpoint: 'runs/x/best.safetensors',
      port: 0,
      host: '0.0.0.0',
      images: 'data',
      cache: 4,
      token: 'a-long-enough-secret',
      allowHosts: ['labeler.lan'],
      int8: false,
      queue: 8,
      maxMegapixels: 100,
      help: false,
    });
    expect(parseServerArgs(['--model', 'exported', '--int8'])).toMatchObject({ model: 'exported', int8: true });
    expect(
      parseServerArgs(['--checkpoint', 'a', '--host', '::'], { SAMTUNE_SERVER_TOKEN: 'from-the-environment' }).token,
    ).toBe('from-the-environment');
  });

  it('names the bad flag', () => {
    expect(() => parseServerArgs([])).toThrow(
      new UsageError(
        '--checkpoint / --model: expected exactly one (a checkpoint name or path, or an export directory), got neither',
      ),
    );
    expect(() => parseServerArgs(['--checkpoint', 'a', '--model', 'b'])).toThrow(/got both$/);
    expect(() => parseServerArgs(['--checkpoint', 'a', '--int8'])).toThrow(
      '--int8: expected together with --model <export dir>, got --checkpoint',
    );
    expect(() => parseServerArgs(['--checkpoint', 'a', '--host', '0.0.0.0'])).toThrow(
      '--host 0.0.0.0: binding to anything but loopback requires --token <secret> (or SAMTUNE_SERVER_TOKEN), got none',
    );
    expect(() => parseServerArgs(['--checkpoint', 'a', '--token', 'short'])).toThrow(
      '--token: expected 16 to 512 printable characters without spaces, got 5 characters',
    );
    expect(() => parseServerArgs(['--checkpoint', 'a', '--port', '70000'])).toThrow(
      "--port: expected an integer in [0, 65535], got '70000'",
    );
    expect(() => parseServerArgs(['--checkpoint', 'a', '--cache', '-1'])).toThrow(UsageError);
    expect(() => parseServerArgs(['--checkpoint', 'a', '--bogus'])).toThrow(/Unknown option '--bogus'/);
    expect(parseServerArgs(['--help']).help).toBe(true);
  });
});
