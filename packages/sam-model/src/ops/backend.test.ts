import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError, initBackend } from './backend.js';

describe('initBackend', () => {
  it('falls back past the native tfjs-node backends to wasm when their addon is missing', async () => {
    const info = await initBackend('');
    expect(['tensorflow-gpu', 'tensorflow', 'wasm']).toContain(info.name);
    expect(tf.getBackend()).toBe(info.name === 'wasm' ? 'wasm' : 'tensorflow');
    if (info.name === 'wasm') expect(info.skipped.map((s) => s.name)).toEqual(['tensorflow-gpu', 'tensorflow']);
  });

  it('honours a forced backend and names an unknown one', async () => {
    expect((await initBackend('cpu')).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    await expect(initBackend('metal')).rejects.toThrow(BackendUnavailableError);
    await expect(initBackend('metal')).rejects.toThrow(/unknown backend 'metal'/);
  });
});
