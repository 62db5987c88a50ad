/**
 * `pnpm bench:hostile-server`: the server's peak resident memory under 32 concurrent 64 MiB image
 * bodies (issue 22, class 4: "32 concurrent uploads -> +2 GB"): uploads (`POST /api/images`, streamed
 * to a temporary file), image bytes to `POST /api/embed` (buffered, bounded by the request-body
 * budget `maxBodyBytesInFlight`, default 64 MiB: bodies that do not fit get 503 before they are
 * read), and, as the baseline in the same run, the same with the budget off (every body buffered: what
 * uploads did before). Each case runs in a fresh server process (`hostile-server-child.ts`); its peak
 * is VmHWM from /proc.
 * Writes bench/results/hostile-server.{json,md}.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { machineInfo, writeResult } from './machine.js';

const UPLOADS = 32;
const BODY = 64 * 2 ** 20;
const DEFAULT_BUDGET = 64 * 2 ** 20;
const repo = resolve(import.meta.dirname, '..');

/** VmRSS and VmHWM (peak) of a process in MiB. */
function rss(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rssMiB: Math.round(kb('VmRSS') / 1024), peakMiB: Math.round(kb('VmHWM') / 1024) };
}

interface Run {
  route: string;
  budgetMiB: number | null;
  idleRssMiB: number;
  peakRssMiB: number;
  statuses: Record<string, number>;
  seconds: number;
}

async function run(route: string, budget: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'samtune-bench-hostile-server-'));
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@samtune/source',
      join(repo, 'bench/hostile-server-child.ts'),
      dir,
      String(budget),
    ],
    { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const url = await new Promise<string>((ok, fail) => {
      child.once('exit', (code) => fail(new Error(`server exited with ${code}`)));
      createInterface({ input: child.stdout! }).once('line', ok);
    });
    await fetch(`${url}/api/health`);
    const pid = child.pid as number;
    const idle = rss(pid);
    const body = new Uint8Array(BODY).fill(1); // not an image: each upload ends in a 400 once read
    const t0 = performance.now();
    const statuses: Record<string, number> = {};
    await Promise.all(
      Array.from({ length: UPLOADS }, async (_, i) => {
        const r = await fetch(`${url}${route === '/api/images' ? `${route}?name=u${i}.png` : route}`, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body,
        }).catch(() => undefined);
        const key = String(r?.status ?? 'connection closed');
        statuses[key] = (statuses[key] ?? 0) + 1;
        await r?.arrayBuffer();
      }),
    );
    const seconds = +((performance.now() - t0) / 1000).toFixed(1);
    return {
      route,
      budgetMiB: budget >= Number.MAX_SAFE_INTEGER ? null : budget / 2 ** 20,
      idleRssMiB: idle.rssMiB,
      peakRssMiB: rss(pid).peakMiB,
      statuses,
      seconds,
    };
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

const machine = machineInfo();
const uploads = await run('/api/images', DEFAULT_BUDGET);
const bounded = await run('/api/embed', DEFAULT_BUDGET);
const unbounded = await run('/api/embed', Number.MAX_SAFE_INTEGER);
const result = { machine, bodies: UPLOADS, bodyMiB: BODY / 2 ** 20, uploads, bounded, unbounded, goalMiB: 600 };
const row = (name: string, r: Run): string =>
  `| \`POST ${r.route}\` | ${name} | ${r.idleRssMiB} MiB | ${r.peakRssMiB} MiB | ${Object.entries(r.statuses)
    .map(([s, n]) => `${n} x ${s}`)
    .join(', ')} | ${r.seconds} s |`;
const md = `# Server memory under concurrent uploads (bench:hostile-server)

${machine.cpu}, ${machine.cores} cores, node ${machine.node}, 1-min load ${machine.loadAverage1m} at the start. ${machine.date}

${UPLOADS} concurrent bodies of ${BODY / 2 ** 20} MiB each (not images: each is a 400 once read) to one server
process (reference MobileSAM checkpoint loaded; a fresh process per row); peak = the process's VmHWM.

| route | request-body budget | idle RSS | peak RSS | replies | wall |
| --- | --- | --- | --- | --- | --- |
${row('- (streamed to a temporary file)', uploads)}
${row(`${DEFAULT_BUDGET / 2 ** 20} MiB (default)`, bounded)}
${row('off (every body buffered: uploads before issue 22)', unbounded)}

Goal: peak <= ${result.goalMiB} MiB. Uploads never hold their body in memory; buffered bodies that do
not fit the budget get 503 + \`Retry-After\` before a byte is read (fastify concatenates a body's
chunks once it is complete, so a buffered body briefly costs twice its size).

Regenerate: \`pnpm bench:hostile-server\`.
`;
writeResult(join(repo, 'bench/results/hostile-server.json'), JSON.stringify(result, null, 2));
writeResult(join(repo, 'bench/results/hostile-server.md'), md);
process.stdout.write(md);
