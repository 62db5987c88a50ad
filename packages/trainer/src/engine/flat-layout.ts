/**
 * All trainable tensors of the decoder laid out in ONE flat float32 vector (checkpoint keys in a
 * fixed order, row-major each), so that Adam runs as one small graph and every per-key tensor the
 * training graphs read or write is a zero-copy view (`subarray`) of a long-lived buffer.
 */
import { numel, type FloatTensor } from '@samtune/tensor';
import { TrainStepError } from './types.js';

/** Where one key lives in the flat vector. */
export interface FlatSlot {
  readonly key: string;
  readonly offset: number;
  readonly size: number;
  readonly shape: readonly number[];
}

/** The layout of the flat vector. */
export class FlatLayout {
  readonly slots: readonly FlatSlot[];
  readonly size: number;
  private readonly byKey: Map<string, FlatSlot>;

  constructor(shapes: readonly (readonly [string, readonly number[]])[]) {
    let offset = 0;
    this.slots = shapes.map(([key, shape]) => {
      const size = numel(shape);
      const slot = { key, offset, size, shape: [...shape] };
      offset += size;
      return slot;
    });
    this.size = offset;
    this.byKey = new Map(this.slots.map((s) => [s.key, s]));
  }

  /** The slot of `key`; throws `TrainStepError` naming the key when absent. */
  slot(key: string): FlatSlot {
    const s = this.byKey.get(key);
    if (!s)
      throw new TrainStepError(`FlatLayout.slot(key): '${key}' is not one of the ${this.slots.length} trainable keys`);
    return s;
  }

  /** The view of `key` in `buf`. */
  view(buf: Float32Array, key: string): Float32Array {
    const s = this.slot(key);
    return buf.subarray(s.offset, s.offset + s.size);
  }

  /** Copies tensors (by key, same shapes) into `buf`; keys of the layout missing from `src` throw. */
  fill(
    buf: Float32Array,
    src: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: ArrayLike<number> }>,
  ): void {
    for (const s of this.slots) {
      const t = src.get(s.key);
      if (!t || t.data.length !== s.size)
        throw new TrainStepError(
          `FlatLayout.fill(src): '${s.key}' must have ${s.size} values [${s.shape.join(',')}], got ${t ? `${t.data.length} [${t.shape.join(',')}]` : 'none'}`,
        );
      buf.set(t.data, s.offset);
    }
  }

  /** Copies of every key's tensor out of `buf`. */
  tensors(buf: Float32Array): Map<string, FloatTensor> {
    return new Map(
      this.slots.map((s) => [
        s.key,
        { dtype: 'float32', shape: [...s.shape], data: buf.slice(s.offset, s.offset + s.size) } as FloatTensor,
      ]),
    );
  }
}
