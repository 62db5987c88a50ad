/** `samtune autolabel` checks its --out before any work (issue 11): a directory or a path under a file. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../command.js';
import { recordingIO } from '../test-utils/io.js';
import { autolabelCommand } from './autolabel.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-autolabel-out-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A checkpoint and a dataset that do not exist: the --out check must come first.
const run = (out: string): Promise<number> =>
  autolabelCommand.run(
    ['--checkpoint', join(dir, 'none.pth'), '--data-root', join(dir, 'none'), '--out', out],
    recordingIO(),
  );

describe('samtune autolabel --out', () => {
  it('a directory is refused before any work', async () => {
    const out = join(dir, 'labels');
    mkdirSync(out);
    await expect(run(out)).rejects.toThrow(
      new UsageError(`--out ${out}: is a directory, expected a file path (e.g. ${join(out, 'labels.json')})`),
    );
  });

  it('a path under a regular file is refused before any work', async () => {
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    await expect(run(join(file, 'sub', 'labels.json'))).rejects.toThrow(
      `--out ${join(file, 'sub', 'labels.json')}: '${file}' is a file, expected a directory to write into`,
    );
  });
});
