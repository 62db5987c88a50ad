/**
 * The vitest settings of every package (each `vitest.config.ts` calls `samtuneVitestConfig`).
 *
 * Vite >= 6 applies `resolve.conditions` to the client environment only; vitest runs modules in the
 * SSR environment, so workspace packages resolve to their sources only with `ssr.resolve.conditions`
 * (and `externalConditions` for the ones Node itself loads).
 *
 * Isolation: by default vitest gives every test file a fresh module graph in its fork, and on this
 * project's 2-core machine (one fork) that re-loads onnxruntime, tfjs, sharp and fastify for every
 * file. A package whose files leave no process-wide state behind (env, cwd, timers, mocks, servers
 * all restored or closed) passes `shared`: its files then run one after the other in one fork that
 * keeps its modules loaded. Files that do change process-wide state (e.g. `tf.setBackend('cpu')`,
 * which `initBackend()`'s cached choice would not notice, or `vi.mock` of a module other files have
 * loaded already) are listed in `isolated` and keep a fresh module graph each, as a second vitest project.
 *
 * Slow files: a package whose tests take minutes may list its slowest files in `slow`. They form the
 * vitest projects `slow` (and `slow-isolated`), which the package's `test:slow` script runs
 * (`vitest run --project='slow*'`) while its `test` script runs the others (`--project='!slow*'`).
 * `test:slow` is an nx target of its own that `test` depends on: nx starts tasks that others wait for
 * first, so the package's slow half starts in the first lane of `pnpm test` instead of last (nx
 * otherwise starts the packages most others depend on first, i.e. the apps last). `vitest run` in the
 * package still runs every file.
 */
import { defineConfig, type TestProjectInlineConfiguration, type ViteUserConfig } from 'vitest/config';

/** How a package's test files share a process, and which of them run as `test:slow`; see the module comment. */
export interface SamtuneVitestOptions {
  /** Run the files without per-file isolation (`isolate: false`). Default false. */
  readonly shared?: boolean;
  /** With `shared`: files (globs relative to the package) that keep per-file isolation. */
  readonly isolated?: readonly string[];
  /** Files (globs relative to the package) of the vitest projects `slow` / `slow-isolated` (the `test:slow` script). */
  readonly slow?: readonly string[];
}

const include = ['src/**/*.test.ts'];

/** One vitest project: `files` minus `exclude`, in one fork without per-file isolation when `shared`. */
function project(
  name: string,
  files: readonly string[],
  exclude: readonly string[],
  shared: boolean,
): TestProjectInlineConfiguration {
  // inside a project only `singleFork` stops per-file isolation (`isolate: false` alone is ignored
  // there, checked with two files counting on a global); one fork is vitest's default here anyway
  const fork = shared ? { poolOptions: { forks: { singleFork: true, isolate: false } } } : {};
  return { extends: true, test: { name, include: [...files], exclude: [...exclude], ...fork } };
}

export function samtuneVitestConfig(opts: SamtuneVitestOptions = {}): ViteUserConfig {
  const shared = opts.shared ?? false;
  // `isolated` and `slow` name files (not globs) where they overlap: a slow isolated file runs in `slow-isolated`
  const isolated = shared ? [...(opts.isolated ?? [])] : [];
  const slow = [...(opts.slow ?? [])];
  const candidates = [
    project(shared ? 'shared' : 'files', include, [...new Set([...isolated, ...slow])], shared),
    project(
      'isolated',
      isolated.filter((f) => !slow.includes(f)),
      [],
      false,
    ),
    project(
      'slow',
      slow.filter((f) => !isolated.includes(f)),
      [],
      shared,
    ),
    project(
      'slow-isolated',
      slow.filter((f) => isolated.includes(f)),
      [],
      false,
    ),
  ];
  const projects = candidates.filter((p, i) => i === 0 || (p.test?.include?.length ?? 0) > 0);
  return defineConfig({
    resolve: { conditions: ['@samtune/source'] },
    ssr: { resolve: { conditions: ['@samtune/source'], externalConditions: ['@samtune/source'] } },
    test: {
      testTimeout: 120_000,
      hookTimeout: 300_000,
      pool: 'forks',
      // one project: the settings at the top level (no project names in the report)
      ...(projects.length === 1 ? { include, ...(shared ? { isolate: false } : {}) } : { projects }),
    },
  });
}
