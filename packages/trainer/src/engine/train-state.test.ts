import { describe, expect, it } from 'vitest';
import type { FloatTensor } from '@samtune/tensor';
import { createTrainEngine, registerTrainEngine, trainEngineNames } from './registry.js';
import { TrainState } from './train-state.js';
import type { TrainEngine } from './contract.js';

const t = (shape: number[], values: number[]): FloatTensor => ({
  dtype: 'float32',
  shape,
  data: Float32Array.from(values),
});

const checkpoint = new Map<string, FloatTensor>([
  ['prompt_encoder.x', t([1], [9])],
  ['mask_decoder.a', t([2, 2], [1, 2, 3, 4])],
  ['mask_decoder.b', t([3], [5, 6, 7])],
]);

describe('TrainState', () => {
  it('holds the mask-decoder tensors of a checkpoint in one flat layout, Adam zero', () => {
    const s = TrainState.fromCheckpoint(checkpoint);
    expect(s.layout.slots.map((x) => [x.key, x.offset, x.size])).toEqual([
      ['mask_decoder.a', 0, 4],
      ['mask_decoder.b', 4, 3],
    ]);
    expect([...s.params]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(s.weights().get('mask_decoder.b')).toEqual(t([3], [5, 6, 7]));
    expect(s.adamState()).toEqual({
      step: 0,
      steps: { 'mask_decoder.a': 0, 'mask_decoder.b': 0 },
      m: { 'mask_decoder.a': new Float32Array(4), 'mask_decoder.b': new Float32Array(3) },
      v: { 'mask_decoder.a': new Float32Array(4), 'mask_decoder.b': new Float32Array(3) },
    });
  });

  it('round-trips weights and Adam state (the run-state file format), and checks sizes and counts', () => {
    const s = TrainState.fromCheckpoint(checkpoint);
    const adam = {
      step: 3,
      steps: { 'mask_decoder.a': 3, 'mask_decoder.b': 2 },
      m: { 'mask_decoder.a': Float32Array.of(1, 1, 1, 1), 'mask_decoder.b': Float32Array.of(2, 2, 2) },
      v: { 'mask_decoder.a': Float32Array.of(3, 3, 3, 3), 'mask_decoder.b': Float32Array.of(4, 4, 4) },
    };
    s.loadAdamState(adam);
    s.setWeights(
      new Map(
        [...checkpoint].map(([k, x]) => [
          k,
          t(
            x.shape as number[],
            [...x.data].map((v) => -v),
          ),
        ]),
      ),
    );
    const copy = TrainState.fromCheckpoint(checkpoint);
    copy.setWeights(s.weights());
    copy.loadAdamState(s.adamState());
    expect([...copy.params]).toEqual([-1, -2, -3, -4, -5, -6, -7]);
    expect(copy.adamState()).toEqual(adam);
    expect(() => copy.uniformCount('OrtTrainEngine.load')).toThrow(
      /OrtTrainEngine\.load\(state\): every trainable key needs the same Adam step count, got 3, 2/,
    );
    expect(() => copy.setWeights(new Map([['mask_decoder.a', t([3], [1, 2, 3])]]))).toThrow(
      /'mask_decoder\.a' must have 4 values \[2,2\], got 3 \[3\]/,
    );
    expect(() => copy.loadAdamState({ ...adam, steps: { 'mask_decoder.a': 1 } })).toThrow(
      /no step count for 'mask_decoder\.b'/,
    );
  });
});

describe('training engine registry', () => {
  it('has ort and tfjs; a registered engine is built by name; an unknown name is named', () => {
    expect(trainEngineNames()).toEqual(expect.arrayContaining(['ort', 'tfjs']));
    const loaded: number[] = [];
    const fake: TrainEngine = {
      name: 'fake',
      load: (s) => loaded.push(s.params.length),
      accumulate: () => ({ loss: 0, focal: 0, dice: 0, iou: 0 }),
      step: () => undefined,
      read: () => undefined,
      evalDecoder: () => {
        throw new Error('fake engine: no validation');
      },
      endEpoch: () => undefined,
      dispose: () => undefined,
    };
    registerTrainEngine('fake', () => fake);
    const e = createTrainEngine('fake', { config: {} as never, weights: checkpoint, adam: {} });
    e.load(TrainState.fromCheckpoint(checkpoint));
    expect(loaded).toEqual([7]);
    expect(() => createTrainEngine('gpu', { config: {} as never, weights: checkpoint, adam: {} })).toThrow(
      /createTrainEngine\(name\): expected one of ort, tfjs, fake, got 'gpu'/,
    );
  });
});
