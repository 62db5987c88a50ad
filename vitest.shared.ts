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
 */
import { defineConfig, type TestProjectInlineConfiguration, type ViteUserConfig } from 'vitest/config';

/** How a package's test files share a process; see the module comment. */
export interface SamtuneVitestOptions {
  /** Run the files without per-file isolation (`isolate: false`). Default false. */
  readonly shared?: boolean;
  /** With `shared`: files (globs relative to the package) that keep per-file isolation. */
  readonly isolated?: readonly string[];
}

export function samtuneVitestConfig(opts: SamtuneVitestOptions = {}): ViteUserConfig {
  const include = ['src/**/*.test.ts'];
  const isolated = opts.isolated ?? [];
  // `include` is set per project: a project that `extends` the root config would add to the root's
  const projects: TestProjectInlineConfiguration[] = [
    // inside a project only `singleFork` stops per-file isolation (`isolate: false` alone is ignored
    // there, checked with two files counting on a global); one fork is vitest's default here anyway
    {
      extends: true,
      test: {
        name: 'shared',
        include,
        exclude: [...isolated],
        poolOptions: { forks: { singleFork: true, isolate: false } },
      },
    },
    { extends: true, test: { name: 'isolated', include: [...isolated] } },
  ];
  return defineConfig({
    resolve: { conditions: ['@samtune/source'] },
    ssr: { resolve: { conditions: ['@samtune/source'], externalConditions: ['@samtune/source'] } },
    test: {
      testTimeout: 120_000,
      hookTimeout: 300_000,
      pool: 'forks',
      ...(!opts.shared ? { include } : isolated.length === 0 ? { include, isolate: false } : { projects }),
    },
  });
}
