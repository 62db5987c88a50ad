/**
 * The versions file as hostile input: a fresh folder starts at v0; a bad entry is reported and
 * skipped; a file of another base, an unknown active version, a symlinked file or `runs` folder, a
 * file that is no JSON or too large are refused with the file and what is wrong; a version left
 * `training` is marked failed (file and run folder); activation, rollback and their refusals.
 */
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VERSIONS_FILE, VersionStore } from './versions.js';

const BASE = 'b'.repeat(64);
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samtune-versions-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = (): string => join(dir, VERSIONS_FILE);
const stateWith = (versions: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    format: 'samtune-versions/1',
    base: BASE,
    active: 'v0',
    history: [],
    instancesAtLastRun: 0,
    versions,
    ...extra,
  });
const v = (id: string, state: string, more: Record<string, unknown> = {}) => ({
  id,
  state,
  createdAt: '2026-01-01T00:00:00.000Z',
  parent: id === 'v0' ? null : 'v0',
  ...more,
});

describe('VersionStore', () => {
  it('starts a fresh folder at v0 and writes the file', async () => {
    const store = await VersionStore.open(dir, BASE);
    expect(store.active).toBe('v0');
    expect(store.list()).toMatchObject([{ id: 'v0', state: 'active', parent: null }]);
    expect(JSON.parse(await readFile(file(), 'utf8'))).toMatchObject({ active: 'v0', base: BASE });
  });

  it('reports and skips bad entries, never taking a path from the file', async () => {
    await writeFile(
      file(),
      stateWith([
        v('v0', 'candidate'),
        v('../../etc', 'candidate'),
        v('v1', 'exploded'),
        v('v2', 'candidate', { decoderSha256: 'c'.repeat(64), runDir: '/etc' }),
        v('v2', 'candidate'),
      ]),
    );
    const lines: string[] = [];
    const store = await VersionStore.open(dir, BASE, (l) => lines.push(l));
    expect(lines).toEqual([
      `${file()}: versions[1].id skipped: expected v0, v1, …`,
      `${file()}: versions[2].state skipped: expected candidate, rejected, failed, cancelled or training`,
      `${file()}: versions[4].id skipped: expected a unique id`,
    ]);
    expect(store.list().map((x) => x.id)).toEqual(['v0', 'v2']);
    expect(store.get('v2').runDir).toBe('runs/v2');
    expect(store.checkpoint('v2')).toBe(join(dir, 'runs', 'v2', 'best.safetensors'));
  });

  it('refuses another base, an unknown active version, no JSON, a symlink, a symlinked runs folder', async () => {
    await writeFile(file(), stateWith([v('v0', 'candidate')], { base: 'a'.repeat(64) }));
    await expect(VersionStore.open(dir, BASE)).rejects.toThrow(
      /holds versions of base checkpoint sha256 aaaaaaaaaaaa, got the server started with bbbbbbbbbbbb/,
    );
    await writeFile(file(), stateWith([v('v0', 'candidate')], { active: 'v7' }));
    await expect(VersionStore.open(dir, BASE)).rejects.toThrow(
      /active version 'v7' is not among its readable versions \(v0\)/,
    );
    await writeFile(file(), '{"format": ');
    await expect(VersionStore.open(dir, BASE)).rejects.toThrow(/is not JSON/);
    await rm(file());
    await writeFile(join(dir, 'elsewhere.json'), stateWith([v('v0', 'candidate')]));
    await symlink(join(dir, 'elsewhere.json'), file());
    await expect(VersionStore.open(dir, BASE)).rejects.toThrow(/it is a symlink, which is not followed/);
    const other = await mkdtemp(join(tmpdir(), 'samtune-versions-other-'));
    const linked = join(dir, 'linked');
    await mkdir(linked);
    await symlink(other, join(linked, 'runs'));
    await expect(VersionStore.open(linked, BASE)).rejects.toThrow(
      /expected .*runs to be a folder inside the data folder, got a symlink/,
    );
    await rm(other, { recursive: true, force: true });
  });

  it('marks a version left training as failed, in the file and in its run folder', async () => {
    await writeFile(file(), stateWith([v('v0', 'candidate'), v('v1', 'training')]));
    const lines: string[] = [];
    const store = await VersionStore.open(dir, BASE, (l) => lines.push(l));
    expect(store.get('v1')).toMatchObject({
      state: 'failed',
      reason: 'the server stopped while this version was training',
    });
    expect(lines).toEqual(['v1: marked failed (the server stopped during its fine-tune)']);
    expect(JSON.parse(await readFile(join(dir, 'runs', 'v1', 'status.json'), 'utf8')).state).toBe('failed');
    const again = await VersionStore.open(dir, BASE);
    expect(again.get('v1').state).toBe('failed');
  });

  it('activates, rolls back, and refuses what cannot be served', async () => {
    const store = await VersionStore.open(dir, BASE);
    const v1 = await store.create(7);
    expect(v1).toMatchObject({ id: 'v1', state: 'training', parent: 'v0', runDir: 'runs/v1' });
    expect(store.instancesAtLastRun).toBe(7);
    expect(() => store.servable('v1')).toThrow(
      /expected a version with a decoder \(candidate or rejected\), got state 'training'/,
    );
    await store.finish('v1', { state: 'rejected', decoderSha256: 'd'.repeat(64), reason: 'worse' });
    expect(store.servable('v1')).toBe(join(dir, 'runs', 'v1', 'best.safetensors'));
    await store.activate('v1');
    expect(store.get('v1').state).toBe('active');
    const status = async (): Promise<string> =>
      (JSON.parse(await readFile(join(dir, 'runs', 'v1', 'status.json'), 'utf8')) as { state: string }).state;
    expect(await status()).toBe('active');
    expect(store.previous()).toBe('v0');
    await store.rollback();
    expect(store.active).toBe('v0');
    expect(await status()).toBe('rejected');
    expect(() => store.previous()).toThrow(/expected a previously active version, got none/);
    expect(() => store.get('v9')).toThrow(/expected one of v0, v1, got "v9"/);
    const reopened = await VersionStore.open(dir, BASE);
    expect(reopened.get('v1')).toMatchObject({ state: 'rejected', reason: 'worse' });
  });
});
