import { describe, expect, it } from 'vitest';
import { UsageError } from './command.js';
import { redisUrl } from './common-flags.js';

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
