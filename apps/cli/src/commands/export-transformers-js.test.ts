/** `samtune export --format transformers.js`: the folder @huggingface/transformers loads (see @samtune/export's test for the loading itself). */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TRANSFORMERS_JS_FILES } from '@samtune/export';
import { UsageError } from '../command.js';
import { recordingIO, referencePath } from '../test-utils/io.js';
import { exportCommand } from './export.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-cli-tjs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('samtune export --format transformers.js', () => {
  it('refuses an unknown format and --multimask outside transformers.js, naming the values', async () => {
    const ckpt = referencePath('tinyvit.pth');
    await expect(
      exportCommand.run(['--checkpoint', ckpt, '--out', dir, '--format', 'tfjs'], recordingIO()),
    ).rejects.toThrow(new UsageError("--format 'tfjs': expected onnx or transformers.js"));
    await expect(exportCommand.run(['--checkpoint', ckpt, '--out', dir, '--multimask'], recordingIO())).rejects.toThrow(
      UsageError,
    );
  });

  it('writes config.json, preprocessor_config.json, the two onnx/ models and samtune.json, verified', async () => {
    const io = recordingIO();
    const out = join(dir, 'tjs');
    expect(
      await exportCommand.run(
        ['--checkpoint', referencePath('tinyvit.pth'), '--out', out, '--format', 'transformers.js'],
        io,
      ),
    ).toBe(0);
    const summary = JSON.parse(io.stdout.at(-1) ?? '{}') as {
      format: string;
      decoder: string;
      files: string[];
      worst_ratio: Record<string, Record<string, number>>;
    };
    expect(summary.format).toBe('transformers.js');
    expect(summary.decoder).toBe('single_mask');
    for (const f of Object.values(TRANSFORMERS_JS_FILES)) expect(existsSync(join(out, f)), f).toBe(true);
    expect(summary.files).toHaveLength(5);
    for (const part of Object.values(summary.worst_ratio))
      for (const r of Object.values(part)) expect(r).toBeLessThanOrEqual(1);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).model_type).toBe('sam');
  }, 600_000);
});
