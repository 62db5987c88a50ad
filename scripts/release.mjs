#!/usr/bin/env node
/**
 * `pnpm release [--dry-run] [--no-build]`: builds every package, then publishes with changesets.
 *
 * - `--dry-run`: prints the pending version bumps (`changeset status`), then packs every public
 *   package as `pnpm publish --dry-run` does (name, version, files, sizes) and publishes nothing.
 * - without it: `changeset publish` (each public package whose version is not on the registry yet,
 *   with `workspace:*` rewritten to the real versions, git tags per package). Run
 *   `pnpm changeset version` first to apply the pending changesets (versions + CHANGELOGs).
 * - `--no-build`: use the existing `dist/` folders.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const dryRun = args.includes('--dry-run');
const build = !args.includes('--no-build');
const unknown = args.filter((a) => a !== '--dry-run' && a !== '--no-build');
if (unknown.length > 0) {
  console.error(`release: unknown argument(s) ${unknown.join(' ')}; usage: pnpm release [--dry-run] [--no-build]`);
  process.exit(2);
}

/** Runs a command in the repo root with inherited stdio; returns its exit status. */
function run(cmd, cmdArgs, { allowFail = false } = {}) {
  console.log(`\n$ ${cmd} ${cmdArgs.join(' ')}`);
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env: process.env });
  const status = r.status ?? 1;
  if (status !== 0 && !allowFail) {
    console.error(`release: '${cmd} ${cmdArgs.join(' ')}' failed with status ${status}`);
    process.exit(status);
  }
  return status;
}

run('node', ['scripts/package-metadata.mjs', '--check']);
if (build) run('pnpm', ['exec', 'nx', 'run-many', '-t', 'build']);
// Pending bumps (exit 1 only means "changed packages without a changeset"; informative here).
run('pnpm', ['exec', 'changeset', 'status', '--verbose'], { allowFail: true });
if (dryRun) {
  run('pnpm', [
    '-r',
    '--filter',
    './packages/*',
    '--filter',
    './apps/*',
    'publish',
    '--dry-run',
    '--no-git-checks',
    '--access',
    'public',
  ]);
  console.log('\nrelease --dry-run: nothing was published.');
} else {
  run('pnpm', ['exec', 'changeset', 'publish']);
}
