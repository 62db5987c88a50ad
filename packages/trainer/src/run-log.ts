/**
 * The run's JSONL log (`<out>/train.jsonl`): one JSON object per line, `{ time, ...event }`.
 * Frequent progress events (embedding, targets, evaluation per image) are not logged; steps,
 * epochs, evaluations and the result are. Each line is appended with one synchronous write, so a
 * kill leaves at most one partial last line (readers skip lines that do not parse).
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { TrainEvent } from './events.js';

const UNLOGGED = new Set<TrainEvent['type']>(['embed-progress', 'targets-progress', 'eval-progress']);

/** Appends events to a JSONL file. */
export class RunLog {
  constructor(readonly path: string) {}

  /** Appends one event (progress events are skipped). */
  write(event: TrainEvent): void {
    if (UNLOGGED.has(event.type)) return;
    appendFileSync(this.path, `${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
  }
}

/** Reads a JSONL log, skipping blank and unparsable lines (a line cut by a kill). */
export function readRunLog(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  const out: Record<string, unknown>[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial last line from a killed process
    }
  }
  return out;
}
