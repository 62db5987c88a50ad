/**
 * The SAM 2.1 registry entries go through the SAM 1 download path (cache, SHA-256 sidecar, offline
 * error), and `loadSam2Checkpoint` takes a registry name. The network is a `fetchImpl` that serves the
 * seeded fixture's bytes or fails; nothing leaves the machine.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_REGISTRY } from '../checkpoint/registry.js';
import { CheckpointUnavailableError, resolveCheckpoint, sha256File } from '../checkpoint/download.js';
import { loadSam2Checkpoint } from './checkpoint.js';
import { SAM2_HIERA_LAYOUTS } from './config.js';
import { SAM2_MINI_CHECKPOINT, miniHieraFacts, sam2ReferencePath } from './test-utils/sam2-fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'samtune-sam2-registry-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('SAM 2.1 registry entries', () => {
  it.each(SAM2_HIERA_LAYOUTS.map((l) => l.name))('%s: the official URL, family sam2', (name) => {
    const e = CHECKPOINT_REGISTRY[name]!;
    expect(e).toMatchObject({
      preset: name,
      family: 'sam2',
      fileName: `${name}.pt`,
      url: `https://dl.fbaipublicfiles.com/segment_anything_2/092824/${name}.pt`,
    });
  });

  it('offline: the same named error as SAM 1, telling the user to pass --checkpoint', async () => {
    const offline = (() => Promise.reject(new TypeError('fetch failed'))) as unknown as typeof fetch;
    const err = await resolveCheckpoint('sam2.1_hiera_tiny', {
      cacheDir: join(root, 'offline'),
      fetchImpl: offline,
      retries: 0,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointUnavailableError);
    expect((err as Error).message).toContain(CHECKPOINT_REGISTRY['sam2.1_hiera_tiny']!.url);
    expect((err as Error).message).toContain('pass --checkpoint <path>');
  });

  it('loadSam2Checkpoint(name) downloads once into the cache, records the SHA-256, then loads offline', async () => {
    const bytes = readFileSync(sam2ReferencePath(SAM2_MINI_CHECKPOINT));
    let requests = 0;
    const serve = ((url: string) => {
      requests++;
      expect(url).toBe(CHECKPOINT_REGISTRY['sam2.1_hiera_tiny']!.url);
      return Promise.resolve(new Response(bytes, { status: 200, headers: { 'content-length': String(bytes.length) } }));
    }) as unknown as typeof fetch;
    const cacheDir = join(root, 'cache');
    const first = await loadSam2Checkpoint('sam2.1_hiera_tiny', {
      cacheDir,
      fetchImpl: serve,
      facts: miniHieraFacts(),
    });
    const sha = await sha256File(sam2ReferencePath(SAM2_MINI_CHECKPOINT));
    expect(first.sha256).toBe(sha);
    expect(readFileSync(join(cacheDir, 'sam2.1_hiera_tiny.pt.sha256'), 'utf8').split(/\s+/)[0]).toBe(sha);
    const offline = (() => Promise.reject(new TypeError('offline'))) as unknown as typeof fetch;
    const again = await loadSam2Checkpoint('sam2.1_hiera_tiny', {
      cacheDir,
      fetchImpl: offline,
      facts: miniHieraFacts(),
    });
    expect(again.path).toBe(first.path);
    expect(again.weights.size).toBe(first.weights.size);
    expect(requests).toBe(1);
  });
});
