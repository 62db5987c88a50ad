import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unregisterDatasetAdapter } from '@samtune/datasets';
import { EXIT_CODE_BY_KIND } from '@samtune/errors';
import { cliVersion, runCli, splitGlobalFlags, userMessage } from './cli.js';
import { recordingIO } from './test-utils/io.js';

const repo = resolve(import.meta.dirname, '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'samtune-cli-'));
afterAll(() => {
  unregisterDatasetAdapter('boxes-csv');
  rmSync(tmp, { recursive: true, force: true });
});
const plugin = join(repo, 'packages', 'datasets', 'src', 'test-utils', 'boxes-csv-plugin.mjs');

/** A boxes.csv dataset (the README's adapter example) of two plant-mini photos. */
export function boxesDataset(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const src = join(repo, 'examples', 'plant-mini', 'train');
  const photos = readdirSync(src)
    .filter((f) => f.endsWith('.jpg'))
    .slice(0, 2);
  for (const p of photos) copyFileSync(join(src, p), join(dir, p));
  writeFileSync(
    join(dir, 'boxes.csv'),
    ['file,label,x1,y1,x2,y2', `${photos[0]},leaf,10,10,100,100`, `${photos[1]},leaf,20,30,120,90`].join('\n'),
  );
  return dir;
}

describe('samtune (dispatch, global flags)', () => {
  it('--version prints the version of the installed @samtune/cli package', async () => {
    const io = recordingIO();
    expect(await runCli(['--version'], io)).toBe(0);
    const pkg = JSON.parse(readFileSync(join(repo, 'apps', 'cli', 'package.json'), 'utf8')) as { version: string };
    expect(io.stdout).toEqual([pkg.version]);
    expect(cliVersion()).toBe(pkg.version);
  });

  it('suggests the closest command and flag', async () => {
    const io = recordingIO();
    expect(await runCli(['trian', '--out', 'x'], io)).toBe(2);
    expect(io.stderr).toEqual([
      "samtune: unknown command 'trian' (did you mean 'samtune train'?); 'samtune --help' lists the commands",
    ]);
    const io2 = recordingIO();
    expect(await runCli(['data', 'inspekt'], io2)).toBe(2);
    expect(io2.stderr[0]).toMatch(/did you mean 'samtune data inspect'\?/);
    const io3 = recordingIO();
    expect(await runCli(['data', 'inspect', '--data-rot', 'x'], io3)).toBe(2);
    expect(io3.stderr).toEqual([
      "samtune data inspect: unknown flag --data-rot (did you mean --data-root?); see 'samtune data inspect --help'",
    ]);
  });

  it('exits with the code of the error kind, the same for the same mistake in every command', async () => {
    const missing = join(tmp, 'no-such-folder');
    for (const argv of [
      ['data', 'inspect', '--data-root', missing],
      ['eval', '--checkpoint', 'tiny_vit', '--data-root', missing],
    ]) {
      const io = recordingIO();
      expect(await runCli(argv, io), argv.join(' ')).toBe(EXIT_CODE_BY_KIND['not-found']);
      const line = io.stderr.find((l) => l.startsWith(`samtune ${argv[0]}`)) ?? '';
      expect(line).toContain(missing);
      expect(line).not.toMatch(/loadDataset\(|Error:/); // no internal signature or class without --verbose
    }
    const usage = recordingIO();
    expect(await runCli(['eval', '--checkpoint', 'x', '--data-root', 'd', '--prompt', 'lasso'], usage)).toBe(2);
    expect(usage.stderr).toEqual(["samtune eval: --prompt 'lasso': expected box or point; see 'samtune eval --help'"]);
  });

  it('strips internal function signatures from messages unless --verbose', () => {
    const e = new Error("readModelJson(dir): loadDataset(root): expected an existing directory, got '/x'");
    expect(userMessage(e, false)).toBe("expected an existing directory, got '/x'");
    expect(userMessage(e, true)).toBe(`Error: ${e.message}`);
    expect(userMessage(new Error('--data-root /x: loadDataset(root): bad'), false)).toBe('--data-root /x: bad');
    expect(userMessage(new Error('loadSamCheckpoint(runs/a/best.safetensors): no base'), false)).toBe(
      'runs/a/best.safetensors: no base',
    );
  });

  it('`samtune data` lists its subcommands', async () => {
    const io = recordingIO();
    expect(await runCli(['data'], io)).toBe(0);
    expect(io.stdout[0]).toMatch(/^usage: samtune data <subcommand> \[flags\]\n\nsubcommands:\n {2}data inspect {5}/);
  });

  it('takes --verbose and --plugin anywhere, and refuses --plugin without a module', () => {
    expect(splitGlobalFlags(['--verbose', 'eval', '--plugin', 'a.mjs', '--json', '--plugin=b'])).toEqual({
      verbose: true,
      plugins: ['a.mjs', 'b'],
      rest: ['eval', '--json'],
    });
    expect(() => splitGlobalFlags(['--plugin'])).toThrow(/--plugin needs a module/);
  });

  it("--plugin registers the README's adapter before the command runs (data inspect reads its format)", async () => {
    const root = boxesDataset(join(tmp, 'boxes'));
    const io = recordingIO();
    expect(await runCli(['--plugin', plugin, 'data', 'inspect', '--data-root', root, '--json'], io)).toBe(0);
    expect(io.stderr).toEqual(['plugins: dataset adapter boxes-csv']);
    expect(JSON.parse(io.stdout.join('\n'))).toMatchObject({
      format: 'boxes-csv',
      subsets: { train: { images: 2, instances: 2, crowd: 0, skipped: 0 } },
    });
    const bad = recordingIO();
    expect(await runCli(['--plugin', join(tmp, 'nope.mjs'), 'data', 'inspect', '--data-root', root], bad)).toBe(2);
    expect(bad.stderr[0]).toMatch(/^samtune data inspect: \S*nope\.mjs: cannot import/);
    const verbose = recordingIO();
    await runCli(['--verbose', '--plugin', join(tmp, 'nope.mjs'), 'data', 'inspect', '--data-root', root], verbose);
    expect(verbose.stderr[0]).toMatch(/PluginLoadError: loadDatasetPlugins\(.*nope\.mjs\): cannot import/);
  });

  it('data inspect reads a COCO JSON file with --images', async () => {
    const coco = join(repo, '..', 'shared', 'fixtures', 'datumaro-formats', 'coco_dataset', 'coco_instances');
    const io = recordingIO();
    const file = join(coco, 'annotations', 'instances_val.json');
    expect(
      await runCli(['data', 'inspect', '--data-root', file, '--images', join(coco, 'images', 'val'), '--json'], io),
    ).toBe(0);
    expect(JSON.parse(io.stdout.join('\n'))).toMatchObject({ format: 'coco', subsets: { val: { images: 1 } } });
  });
});
