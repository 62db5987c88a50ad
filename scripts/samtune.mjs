#!/usr/bin/env node
// `pnpm samtune` / `pnpm demo` / `pnpm serve`: runs the built CLI (apps/cli/dist/main.js; plain
// JavaScript, so `samtune --help` starts in well under a second instead of compiling TypeScript at
// every start). Builds first (nx, cached per package) when there is no build yet or a source file is
// newer than the last build this script ran, so a fresh clone and an edited checkout both run what
// the sources say.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
const main = join(root, 'apps', 'cli', 'dist', 'main.js');
// written after each build with the time the build started: a source edited during a build is newer
const stamp = join(root, 'apps', 'cli', 'dist', '.samtune-build-stamp');

/** Newest modification time (ms) of the non-test sources and package.json files of every project. */
function newestSource() {
  let newest = 0;
  for (const group of ['apps', 'packages']) {
    for (const project of readdirSync(join(root, group))) {
      const dir = join(root, group, project);
      newest = Math.max(newest, statSync(join(dir, 'package.json'), { throwIfNoEntry: false })?.mtimeMs ?? 0);
      for (const f of readdirSync(join(dir, 'src'), { recursive: true, encoding: 'utf8' })) {
        if (f.endsWith('.test.ts') || f.includes('test-utils')) continue;
        newest = Math.max(newest, statSync(join(dir, 'src', f)).mtimeMs);
      }
    }
  }
  return newest;
}

const built = statSync(main, { throwIfNoEntry: false })
  ? (statSync(stamp, { throwIfNoEntry: false })?.mtimeMs ?? 0)
  : 0;
if (built === 0 || newestSource() > built) {
  const start = new Date();
  process.stderr.write(
    `samtune: ${built === 0 ? 'no build yet' : 'sources changed'}: building (nx, cached per package)…\n`,
  );
  execFileSync('npx', ['nx', 'run', '@samtune/cli:build', '--output-style=static'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  writeFileSync(stamp, '');
  utimesSync(stamp, start, start);
}
await import(pathToFileURL(main).href);
