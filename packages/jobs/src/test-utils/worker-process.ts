/**
 * Test-only: `samtune worker` as a real OS process (`worker-child.ts` under tsx, in its own process
 * group so `kill9()` takes down tsx's launcher and the node process that works), with its event lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '@samtune/test-fixtures';
import type { WorkerEvent, WorkerOptions } from '../worker.js';

export interface WorkerProcess {
  readonly events: WorkerEvent[];
  /** Worker id (known after its `ready` event). */
  id(): string | undefined;
  /** Resolves with the first event (already seen or future) matching `pred`. */
  waitFor(pred: (e: WorkerEvent) => boolean, timeoutMs: number, what: string): Promise<WorkerEvent>;
  kill9(): void;
  /** SIGTERM to the worker process; resolves with the exit code. */
  term(): Promise<number | null>;
  readonly exited: Promise<number | null>;
  stderr(): string;
}

export function spawnWorker(opts: Omit<WorkerOptions, 'onEvent'>): WorkerProcess {
  const tsx = join(repoRoot(), 'node_modules', '.bin', 'tsx');
  const child: ChildProcess = spawn(
    tsx,
    ['--conditions=@samtune/source', join(import.meta.dirname, 'worker-child.ts'), JSON.stringify(opts)],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  const events: WorkerEvent[] = [];
  const waiters: { pred: (e: WorkerEvent) => boolean; resolve: (e: WorkerEvent) => void }[] = [];
  let buf = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const e = JSON.parse(line) as WorkerEvent;
      events.push(e);
      for (const w of [...waiters]) {
        if (w.pred(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    }
  });
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const signal = (sig: NodeJS.Signals): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, sig);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  };
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    events,
    id: () => events.find((e) => e.type === 'ready')?.worker,
    waitFor(pred, timeoutMs, what) {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`worker: no '${what}' event within ${timeoutMs} ms; stderr: ${err.slice(-2000)}`)),
          timeoutMs,
        );
        waiters.push({
          pred,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
      });
    },
    kill9() {
      signal('SIGKILL');
    },
    term() {
      // to the worker's node process only (its id is host:pid:…): tsx's launcher relays signals, and
      // a group signal would deliver SIGTERM twice
      const pid = Number(events.find((e) => e.type === 'ready')?.worker.split(':')[1]);
      if (Number.isInteger(pid) && pid > 0) process.kill(pid, 'SIGTERM');
      else signal('SIGTERM');
      return exited;
    },
    exited,
    stderr: () => err,
  };
}
