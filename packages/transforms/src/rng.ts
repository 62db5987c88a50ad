/**
 * A small seeded pseudo-random generator (mulberry32: 32-bit state, period 2^32), so that prompt
 * sampling and jitter are reproducible from a seed and resumable from a saved state.
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** A seeded random source. Same seed → same sequence. */
export interface Rng {
  /** Uniform float in `[0, 1)`. */
  next(): number;
  /** Uniform integer in `[0, n)`; `n` must be a positive integer. */
  int(n: number): number;
  /** Uniform float in `[lo, hi)`. */
  uniform(lo: number, hi: number): number;
  /** The 32-bit state; `createRng(0, state)` continues the sequence from here. */
  getState(): number;
}

/** Thrown for an invalid argument to an `Rng` method. */
export class RngArgumentError extends SamtuneError {
  readonly code: string = 'rng-argument';
  readonly kind: ErrorKind = 'input';
}

/** Mixes any finite number into a 32-bit seed (integers in `[0, 2^32)` map to themselves). */
function toSeed(seed: number): number {
  if (!Number.isFinite(seed)) throw new RngArgumentError(`createRng(seed): expected a finite number, got ${seed}`);
  if (Number.isInteger(seed)) return seed >>> 0;
  return Math.imul(Math.floor(seed * 0x9e3779b9), 0x85ebca6b) >>> 0;
}

/**
 * A mulberry32 generator.
 * @param seed any finite number (integers are used as is, modulo 2^32).
 * @param state a value from `getState()` to resume a sequence (overrides `seed`).
 */
export function createRng(seed: number, state?: number): Rng {
  let s = state !== undefined ? state >>> 0 : toSeed(seed);
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int(n: number): number {
      if (!Number.isInteger(n) || n <= 0)
        throw new RngArgumentError(`Rng.int(n): expected a positive integer, got ${n}`);
      return Math.floor(next() * n);
    },
    uniform(lo: number, hi: number): number {
      return lo + (hi - lo) * next();
    },
    getState(): number {
      return s;
    },
  };
}
