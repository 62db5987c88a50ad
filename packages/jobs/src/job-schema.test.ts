/**
 * A queue job's payload is hostile input (issue 22): it is validated against its kind's schema and
 * its paths stay inside the queue's `dataRoot` (images) and `outDir` (outputs); every refusal is an
 * input error, which the worker fails at once (UnrecoverableError) instead of retrying.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PathOutsideFolderError } from '@samtune/sam-model';
import { JobInputError, QueueInputError } from './errors.js';
import { checkJobData, checkQueueMeta } from './job-schema.js';
import type { QueueMeta } from './queue-store.js';
import { listSourceImages } from './images.js';
import { isPermanent } from './tasks.js';

const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'samtune-jobschema-')));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const dataRoot = join(tmp, 'data');
const outDir = join(tmp, 'out');
mkdirSync(dataRoot);
mkdirSync(outDir);
writeFileSync(join(dataRoot, 'a.jpg'), 'jpg');
writeFileSync(join(tmp, 'victim.txt'), 'keep me');
symlinkSync(join(tmp, 'victim.txt'), join(dataRoot, 'link.jpg'));
symlinkSync(tmp, join(outDir, 'escape'));

const hex = 'ab'.repeat(32);
const meta: QueueMeta = {
  id: 'autolabel-0123456789ab',
  kind: 'autolabel',
  checkpoint: '/ckpt/tinyvit.pth',
  checkpointSha256: hex,
  encoderKey: 'enc',
  outDir,
  dataRoot,
  attempts: 3,
  createdAt: '2026-12-07T00:00:00Z',
};
const good = {
  imagePath: join(dataRoot, 'a.jpg'),
  imageSha256: hex,
  cacheKey: hex,
  outputPath: join(outDir, 'labels', 'j1.json'),
  prompt: 'box',
  prompts: [{ instanceId: '1', categoryId: 1, box: [1, 2, 30, 40] }],
};

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('checkJobData', () => {
  it('accepts a payload like the producer writes, with real paths', () => {
    expect(checkJobData(meta, 'j1', good)).toEqual(good);
  });

  it('malformed payloads: JobInputError naming each problem (no raw TypeError), permanent', () => {
    const cases: [unknown, string][] = [
      [null, '(root) must be object, got null'],
      [{ ...good, prompts: 'all' }, 'prompts must be array, got "all"'],
      [{ ...good, prompt: 'lasso' }, 'prompt must match a schema in anyOf, got "lasso"'],
      [{ ...good, imageSha256: 'x' }, 'imageSha256 must match pattern'],
      [{ ...good, prompts: [{ instanceId: '1', categoryId: 1, box: [1, 2] }] }, 'prompts.0.box'],
      [{ ...good, extra: 1 }, 'must not have additional properties'],
    ];
    for (const [data, problem] of cases) {
      const err = thrown(() => checkJobData(meta, 'j1', data));
      expect(err).toBeInstanceOf(JobInputError);
      expect(err.message).toContain(`runJob(${meta.id}/j1): job data: `);
      expect(err.message).toContain(problem);
      expect(isPermanent(err)).toBe(true);
    }
  });

  it('paths outside the queue folders: refused, permanent, nothing read or written', () => {
    const cases: [Record<string, unknown>, string][] = [
      [
        { imagePath: join(tmp, 'victim.txt') },
        `data.imagePath: expected a file inside ${dataRoot}, got '${join(tmp, 'victim.txt')}' (it resolves to ${join(tmp, 'victim.txt')})`,
      ],
      [{ imagePath: join(dataRoot, 'link.jpg') }, `a symbolic link leads to ${join(tmp, 'victim.txt')}`],
      [{ imagePath: '/etc/passwd' }, 'it resolves to /etc/passwd'],
      [{ outputPath: join(tmp, 'victim.txt') }, `data.outputPath: expected a file inside ${outDir}`],
      [{ outputPath: join(outDir, '..', 'victim.txt') }, `it resolves to ${join(tmp, 'victim.txt')}`],
      [{ outputPath: join(outDir, 'escape', 'victim.txt') }, `a symbolic link leads to ${join(tmp, 'victim.txt')}`],
    ];
    for (const [patch, why] of cases) {
      const err = thrown(() => checkJobData(meta, 'j1', { ...good, ...patch }));
      expect(err).toBeInstanceOf(PathOutsideFolderError);
      expect(err.message).toContain(why);
      expect(isPermanent(err)).toBe(true);
    }
  });

  it('the queue meta read from Redis is validated too', () => {
    expect(checkQueueMeta(meta, meta.id)).toEqual(meta);
    const err = thrown(() => checkQueueMeta({ ...meta, outDir: 'relative/out', attempts: 0 }, meta.id));
    expect(err).toBeInstanceOf(QueueInputError);
    expect(err.message).toBe(
      `readQueueMeta(${meta.id}): samtune:meta:${meta.id}: outDir must match pattern "^/", got "relative/out"; attempts must be >= 1, got 0`,
    );
  });
});

describe('the producer', () => {
  it('leaves out (and says why) an image that is a symlink out of the data root: its job could never run', async () => {
    const root = join(tmp, 'plain');
    mkdirSync(root);
    writeFileSync(join(root, 'a.jpg'), 'jpg');
    writeFileSync(join(tmp, 'outside.jpg'), 'jpg');
    symlinkSync(join(tmp, 'outside.jpg'), join(root, 'b.jpg'));
    const listing = await listSourceImages(root, { requireDataset: false });
    expect(listing.images.map((i) => i.imagePath)).toEqual([join(root, 'a.jpg')]);
    expect(listing.skipped).toEqual([
      `listSourceImages(dataRoot): expected a file inside ${root}, got '${join(root, 'b.jpg')}' (a symbolic link leads to ${join(tmp, 'outside.jpg')}); workers read images only inside the data root`,
    ]);
  });
});
