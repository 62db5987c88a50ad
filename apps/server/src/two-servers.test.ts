/**
 * Two real server processes on one `--images` folder: saves sent to both at once are all kept (the
 * labels file is locked across processes for each read-modify-write), and the file stays a COCO
 * file that @samtune/datasets reads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadDataset } from '@samtune/datasets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { solidPng } from './test-utils/images.js';

const IMAGES = 16; // per server
let dir: string;
const children: ChildProcess[] = [];
const urls: string[] = [];

/** Starts one server process on `dir`; resolves with its URL. */
function serve(): Promise<string> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@samtune/source', join(import.meta.dirname, 'test-utils', 'serve-child.ts'), dir],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`serve-child exited with ${code} before printing its URL`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'samtune-two-servers-'));
  const png = await solidPng(8, 6);
  for (let i = 0; i < 2 * IMAGES; i++) writeFileSync(join(dir, `im${String(i).padStart(2, '0')}.png`), png);
  urls.push(...(await Promise.all([serve(), serve()])));
}, 120_000);

afterAll(() => {
  for (const c of children) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

/** A full 8x6 mask but its first pixel, as uncompressed RLE. */
const SEG = { size: [6, 8], counts: [1, 47] };

describe('two servers on one folder', () => {
  it('keeps every save sent to both at once (no lost update)', async () => {
    const saves = Array.from({ length: 2 * IMAGES }, (_, i) => {
      const url = urls[i % 2] as string;
      const image = `im${String(i).padStart(2, '0')}.png`;
      return fetch(`${url}/api/labels`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ image, annotations: [{ category: `server${i % 2}`, segmentation: SEG }] }),
      }).then(async (r) => [r.status, ((await r.json()) as { saved: number }).saved]);
    });
    expect(await Promise.all(saves)).toEqual(Array(2 * IMAGES).fill([200, 1]));

    for (const url of urls) {
      const listed = (await (await fetch(`${url}/api/images`)).json()) as { images: { labels: number }[] };
      expect(listed.images.map((im) => im.labels)).toEqual(Array(2 * IMAGES).fill(1));
    }
    const ds = await loadDataset(dir, { format: 'coco', strict: true });
    const byImage = new Map(
      (ds.subsets.default ?? []).map((it) => [basename(it.imagePath), it.instances.map((x) => x.label.name)]),
    );
    expect([...byImage.entries()].sort()).toEqual(
      Array.from({ length: 2 * IMAGES }, (_, i) => [`im${String(i).padStart(2, '0')}.png`, [`server${i % 2}`]]),
    );
  });
});
