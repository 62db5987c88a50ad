/**
 * onnxruntime-node CPU latency of models: warm-up runs, then the median (and spread) of N timed runs
 * of `session.run` on fixed inputs. Wall-clock of one `run` call, in milliseconds.
 */
import { statSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { createSession } from '@samtune/onnx';
import type { Session, SessionOptions } from '@samtune/onnx';
import type { Feeds } from './calibrate.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown for fewer than the minimum runs. */
export class LatencyOptionsError extends SamtuneError {
  readonly code: string = 'latency-options';
  readonly kind: ErrorKind = 'input';
}

/** Fewest timed runs `measureLatency` accepts (the report's "median of >= 20"). */
export const MIN_LATENCY_RUNS = 20;

export interface LatencyOptions {
  /** Timed runs (>= 20). Default 20. */
  readonly runs?: number;
  /** Untimed runs first. Default 2. */
  readonly warmup?: number;
  /** Session options; `intraOpNumThreads` defaults to all cores. */
  readonly session?: SessionOptions;
}

/** Latency statistics in milliseconds. */
export interface LatencyStats {
  readonly medianMs: number;
  readonly p10Ms: number;
  readonly p90Ms: number;
  readonly minMs: number;
  readonly runs: number;
  readonly threads: number;
}

/** The q-quantile (0..1) of sorted values, linear interpolation. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/** Times `session.run(feeds)` of one model (see `measureLatencies`). */
export async function measureLatency(
  model: string | Uint8Array,
  feeds: Feeds,
  options: LatencyOptions = {},
): Promise<LatencyStats> {
  return (await measureLatencies([model], feeds, options))[0] as LatencyStats;
}

/**
 * Times several models on the same inputs, INTERLEAVED: run i of every model happens before run i+1
 * of any, so a change of machine load during the measurement hits all models alike (on a shared
 * machine, back-to-back blocks of runs can differ by 2x). `model`: `.onnx` path or bytes.
 */
export async function measureLatencies(
  models: readonly (string | Uint8Array)[],
  feeds: Feeds,
  options: LatencyOptions = {},
): Promise<LatencyStats[]> {
  const runs = options.runs ?? MIN_LATENCY_RUNS;
  if (!Number.isInteger(runs) || runs < MIN_LATENCY_RUNS)
    throw new LatencyOptionsError(
      `measureLatency(options.runs): expected an integer >= ${MIN_LATENCY_RUNS}, got ${runs}`,
    );
  const threads = options.session?.intraOpNumThreads ?? availableParallelism();
  const sessions: Session[] = [];
  const times: number[][] = models.map(() => []);
  try {
    for (const m of models) sessions.push(await createSession(m, { ...options.session, intraOpNumThreads: threads }));
    for (const s of sessions) for (let i = 0; i < (options.warmup ?? 2); i++) await s.run(feeds);
    for (let i = 0; i < runs; i++) {
      for (const [k, s] of sessions.entries()) {
        const t0 = performance.now();
        await s.run(feeds);
        (times[k] as number[]).push(performance.now() - t0);
      }
    }
  } finally {
    for (const s of sessions) await s.release();
  }
  return times.map((t) => {
    t.sort((a, b) => a - b);
    return {
      medianMs: quantile(t, 0.5),
      p10Ms: quantile(t, 0.1),
      p90Ms: quantile(t, 0.9),
      minMs: t[0] as number,
      runs,
      threads,
    };
  });
}

/** Size of a file in bytes. */
export function fileBytes(path: string): number {
  return statSync(path).size;
}

/** The machine, for reports: CPU model, cores, load average at the time. */
export function machineSummary(): { cpu: string; cores: number; load1: number; node: string; platform: string } {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    load1: Number((loadavg()[0] ?? 0).toFixed(2)),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}
