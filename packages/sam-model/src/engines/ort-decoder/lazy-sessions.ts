/**
 * `LazySessions`: the onnxruntime sessions of a decoder engine (`OrtDecoder`, `Sam2OrtDecoder`), each
 * built on first use from a recorded graph and kept by key; `clear` drops them (new weights), and
 * after `release` every `get` throws.
 */
import { createSession, type OnnxGraphOps, type Session, type SessionOptions } from '@samtune/onnx';
import { PredictorInputError } from '../../predictor.js';

export class LazySessions<K> {
  private readonly sessions = new Map<K, Promise<Session>>();
  private released = false;

  /** @param owner the engine's name for messages (`OrtDecoder`) */
  constructor(
    private readonly options: SessionOptions,
    private readonly owner: string,
  ) {}

  /**
   * The session of `key`, built from `record()`'s model on first use.
   * @param fn the caller's name for the message after `release`
   * @throws PredictorInputError after `release`
   */
  get(key: K, record: () => OnnxGraphOps, fn: string): Promise<Session> {
    if (this.released) throw new PredictorInputError(`${this.owner}.${fn}(): the engine was released`);
    let s = this.sessions.get(key);
    if (!s) {
      s = createSession(record().builder.toModelBytes(), this.options);
      this.sessions.set(key, s);
    }
    return s;
  }

  /** Releases every session; the next `get` builds them again. */
  async clear(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await (await s).release();
  }

  /** `clear`, and every later `get` throws. */
  async release(): Promise<void> {
    this.released = true;
    await this.clear();
  }
}
