/**
 * Every README library example marked ` ```ts runnable ` runs, unchanged, in a fresh project as a
 * user's code would, and all of them type-check (strict, nodenext). See this package's README for
 * the files the project holds (`photo.jpg`, `mobile_sam.pt`, `my-data/`).
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referencePath, repoPath, repoRoot, sharedEmbeddingCacheDir } from '@samtune/test-fixtures';

const run = promisify(execFile);

/** READMEs with examples, in dependency order (a later example may use an earlier one's output). */
export const READMES = [
  'packages/errors',
  'packages/tensor',
  'packages/tensor-files',
  'packages/worker-thread',
  'packages/onnx',
  'packages/transforms',
  'packages/datasets',
  'packages/training-data',
  'packages/sam-model',
  'packages/losses',
  'packages/trainer',
  'packages/export',
  'packages/quantize-ptq',
  'apps/cli',
  'apps/server',
] as const;

/** The ` ```ts runnable ` blocks of a markdown text, in order. */
export function runnableBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  const re = /^```ts runnable[^\n]*\n([\s\S]*?)^```\s*$/gm;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) blocks.push(m[1] ?? '');
  return blocks;
}

/** Links `<project>/node_modules/<name>` to `target`. */
function link(project: string, name: string, target: string): void {
  const at = join(project, 'node_modules', name);
  mkdirSync(dirname(at), { recursive: true });
  symlinkSync(target, at, 'dir');
}

/** The temporary user project: workspace packages linked, fixture files under the names the READMEs use. */
function makeProject(): string {
  const project = mkdtempSync(join(tmpdir(), 'samtune-readme-'));
  const root = repoRoot();
  writeFileSync(
    join(project, 'package.json'),
    '{ "name": "readme-examples-run", "private": true, "type": "module" }\n',
  );
  for (const group of ['packages', 'apps']) {
    for (const dir of readdirSync(join(root, group))) {
      const pkg = join(root, group, dir, 'package.json');
      if (existsSync(pkg))
        link(project, (JSON.parse(readFileSync(pkg, 'utf8')) as { name: string }).name, join(root, group, dir));
    }
  }
  for (const dep of ['@tensorflow/tfjs', '@types/node']) link(project, dep, join(root, 'node_modules', dep));
  // the export README's transformers.js example (a devDependency of @samtune/export)
  link(project, '@huggingface/transformers', join(root, 'packages/export/node_modules/@huggingface/transformers'));
  copyFileSync(referencePath('dog.jpg'), join(project, 'photo.jpg'));
  symlinkSync(referencePath('tinyvit.pth'), join(project, 'mobile_sam.pt'));
  symlinkSync(repoPath('examples/plant-mini'), join(project, 'my-data'), 'dir');
  // SAMTUNE_CACHE is the project's own .cache; only its embeddings/ is the tests' shared,
  // content-addressed cache, so the photos of my-data are not encoded again for every run
  mkdirSync(sharedEmbeddingCacheDir(), { recursive: true });
  mkdirSync(join(project, '.cache'));
  symlinkSync(sharedEmbeddingCacheDir(), join(project, '.cache', 'embeddings'), 'dir');
  writeFileSync(
    join(project, 'tsconfig.json'),
    `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          customConditions: ['@samtune/source'],
          strict: true,
          noUncheckedIndexedAccess: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
        },
        include: ['*.ts'],
      },
      null,
      2,
    )}\n`,
  );
  return project;
}

describe('README examples', () => {
  let project: string;
  const files: string[] = [];
  beforeAll(() => {
    project = makeProject();
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('every package README has a runnable library example', () => {
    const missing = READMES.filter(
      (dir) => runnableBlocks(readFileSync(repoPath(`${dir}/README.md`), 'utf8')).length === 0,
    );
    expect(missing).toEqual([]);
  });

  for (const dir of READMES) {
    it(`${dir}/README.md: its runnable examples run`, async () => {
      const blocks = runnableBlocks(readFileSync(repoPath(`${dir}/README.md`), 'utf8'));
      for (const [i, code] of blocks.entries()) {
        const file = join(project, `${basename(dir)}-${i + 1}.ts`);
        writeFileSync(file, code);
        files.push(file);
        const tsx = join(repoRoot(), 'node_modules', '.bin', 'tsx');
        try {
          const { stdout } = await run(tsx, ['--conditions=@samtune/source', file], {
            cwd: project,
            timeout: 600_000,
            env: { ...process.env, SAMTUNE_CACHE: join(project, '.cache'), SAMTUNE_BACKEND: 'wasm' },
            maxBuffer: 64 * 1024 * 1024,
          });
          console.log(`${dir} example ${i + 1}:\n${stdout}`);
        } catch (err) {
          const e = err as Error & { stdout?: string; stderr?: string };
          throw new Error(
            `${dir}/README.md example ${i + 1} (${file}) failed:\n${(e.stdout ?? '').slice(-4000)}\n${(e.stderr ?? e.message).slice(-4000)}`,
          );
        }
      }
    });
  }

  it('the examples type-check together (strict, moduleResolution nodenext)', async () => {
    expect(files.length).toBeGreaterThanOrEqual(READMES.length);
    const tsc = join(repoRoot(), 'node_modules', '.bin', 'tsc');
    try {
      await run(tsc, ['-p', join(project, 'tsconfig.json')], { cwd: project, timeout: 600_000 });
    } catch (err) {
      const e = err as Error & { stdout?: string };
      throw new Error(`README examples do not type-check:\n${e.stdout ?? e.message}`);
    }
  });
});
