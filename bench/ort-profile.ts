/**
 * onnxruntime's profile as onnxruntime-web prints it to the console (`session.endProfiling()`: one
 * JSON array per session, one event per line), summed per session: runs, time per run, and the time
 * per run of each op type and of the slowest nodes (with their input shapes).
 */

/** One profile event (`Session` or `Node` category; `dur` in microseconds). */
interface ProfileEvent {
  readonly cat: string;
  readonly name: string;
  readonly dur: number;
  readonly args?: { readonly op_name?: string; readonly input_type_shape?: Record<string, number[]>[] };
}

/** What one session's profile says, per run. */
export interface SessionProfile {
  readonly runs: number;
  readonly runMs: number;
  /** Op type -> ms per run, slowest first. */
  readonly ops: readonly { readonly op: string; readonly ms: number; readonly share: number }[];
  /** The slowest nodes: name, op, input shapes, ms per run. */
  readonly nodes: readonly {
    readonly node: string;
    readonly op: string;
    readonly inputs: string;
    readonly ms: number;
  }[];
}

/** Splits console lines into the arrays printed by `endProfiling()`, in print order. */
export function profileArrays(lines: readonly string[]): ProfileEvent[][] {
  const out: ProfileEvent[][] = [];
  let cur: ProfileEvent[] | null = null;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '[') cur = [];
    else if (line === ']' && cur) {
      out.push(cur);
      cur = null;
    } else if (cur && line.startsWith('{')) cur.push(JSON.parse(line.replace(/,$/, '')) as ProfileEvent);
  }
  return out;
}

/** Sums one session's events per run; `topNodes` slowest nodes kept. */
export function summarizeProfile(events: readonly ProfileEvent[], topNodes = 8): SessionProfile {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const n = Math.max(1, runs.length);
  const perRun = (us: number): number => +(us / n / 1000).toFixed(2);
  const byOp = new Map<string, number>();
  const byNode = new Map<string, { op: string; inputs: string; us: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
    const node = e.name.replace(/_kernel_time$/, '');
    const inputs = (e.args?.input_type_shape ?? []).map((t) => `[${Object.values(t)[0]?.join(',')}]`).join(' ');
    const prev = byNode.get(node);
    byNode.set(node, { op, inputs, us: (prev?.us ?? 0) + e.dur });
  }
  const total = [...byOp.values()].reduce((a, b) => a + b, 0) || 1;
  return {
    runs: runs.length,
    runMs: perRun(runs.reduce((a, e) => a + e.dur, 0)),
    ops: [...byOp]
      .sort((a, b) => b[1] - a[1])
      .map(([op, us]) => ({ op, ms: perRun(us), share: +(us / total).toFixed(3) })),
    nodes: [...byNode]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, topNodes)
      .map(([node, v]) => ({ node, op: v.op, inputs: v.inputs, ms: perRun(v.us) })),
  };
}
