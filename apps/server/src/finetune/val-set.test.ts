/**
 * The gate on the user's own validation set (`--val`): the box domain (targets = the prompt box, as in
 * `finetune.test.ts`), 6 labelled images to train on and a separate labels file of 3 images to gate
 * on. Every accepted label trains (no split); the candidate and the serving version are measured on
 * the --val set, and the version's record and the gate's reason name it and its size. A bad --val
 * file stops the start with a named error, before the model loads.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type SamServer } from '../server.js';
import { LABELS_FILE } from '../labels-store.js';
import { makeBoxDomain } from '../test-utils/box-domain.js';
import { referencePath } from '../test-utils/fixtures.js';
import { gate } from './gate.js';
import { ValSetError } from './val-set.js';
import type { VersionInfo, VersionMetrics } from './versions.js';

let dir: string;
let srv: SamServer | undefined;
const model = { checkpoint: referencePath('tinyvit.pth') };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samtune-val-set-'));
  await makeBoxDomain(join(dir, 'images'), { count: 6, perImage: 1, shape: 'box', size: [0.6, 0.95] });
  await makeBoxDomain(join(dir, 'val'), { count: 3, perImage: 1, shape: 'box', size: [0.6, 0.95], seed: 7 });
}, 120_000);

afterAll(async () => {
  await srv?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the gate on a --val set', () => {
  it('a bad --val file is a named error at start', async () => {
    const start = (labels: string, images?: string) =>
      startServer({
        model,
        imagesDir: join(dir, 'images'),
        port: 0,
        finetune: { val: { labels, ...(images ? { images } : {}) } },
      });
    await writeFile(join(dir, 'broken.json'), '{"images": [');
    await expect(start(join(dir, 'broken.json'))).rejects.toThrow(ValSetError);
    await expect(start(join(dir, 'broken.json'))).rejects.toMatchObject({
      code: 'val-set',
      message: expect.stringMatching(/^startServer\(finetune\.val\): --val .*broken\.json: /),
    });
    await expect(start(join(dir, 'missing.json'))).rejects.toThrow(/--val .*missing\.json: cannot be read/);
    await expect(start(join(dir, 'val', 'img00.png'))).rejects.toThrow(/expected a COCO labels \.json file/);
    await expect(start(join(dir, 'images', LABELS_FILE))).rejects.toThrow(
      /expected a labels file other than the one fine-tuning trains on/,
    );
    // the file's images are elsewhere: every item is skipped, so there is nothing to validate on
    await mkdir(join(dir, 'empty'));
    await expect(start(join(dir, 'val', LABELS_FILE), join(dir, 'empty'))).rejects.toThrow(
      /expected images with at least one instance, got 0 image\(s\) and 0 instances \(skipped: /,
    );
    await expect(
      startServer({ model, port: 0, finetune: { val: { labels: join(dir, 'val', LABELS_FILE) } } }),
    ).rejects.toThrow(/--val .* needs --images/);
  });

  it('compares the candidate and the serving version on the --val set, and names it with its size', async () => {
    const labels = join(dir, 'val', LABELS_FILE);
    srv = await startServer({
      model,
      imagesDir: join(dir, 'images'),
      port: 0,
      finetune: { epochs: 1, clicks: 5, val: { labels } },
    });
    const res = await fetch(`${srv.url}/api/finetune`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ epochs: 1, lr: 0.02 }),
    });
    expect(res.status).toBe(202);
    const v = (await srv.versions?.finetuner.current) as VersionInfo;
    console.log('--val run', JSON.stringify({ metrics: v.metrics, baseline: v.baseline, reason: v.reason }));
    expect(v.heldOut).toEqual({ source: 'val', labels, images: 3, instances: 3 });
    const [m, b] = [v.metrics as VersionMetrics, v.baseline as VersionMetrics];
    expect([m.prompts, b.prompts]).toEqual([3, 3]);
    expect(v.reason).toBe(gate(m, b, 'v0', {}, v.heldOut).reason);
    expect(v.reason).toContain(`on the --val set ${labels} (3 images, 3 instances)`);
    expect(m.f1).toBeGreaterThan(b.f1 ?? 1);
    expect(v.state).toBe('active');
    const listed = (await (await fetch(`${srv.url}/api/versions`)).json()) as { versions: VersionInfo[] };
    expect(listed.versions.find((x) => x.id === v.id)?.heldOut).toEqual(v.heldOut);
  }, 600_000);
});
