import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareDemo } from '@samtune/trainer';
import { repoPath } from '@samtune/test-fixtures';
import { bundledDemoRoot, DEMO_DATA_DIR, demoLocation } from './demo-data.js';

/** A fake installed package: `<tmp>/dist/demo-data.js` beside `<tmp>/dist/examples/plant-mini`. */
function fakeInstall(): { dist: string; moduleUrl: string } {
  const dist = join(mkdtempSync(join(tmpdir(), 'samtune-cli-demo-')), 'dist');
  mkdirSync(join(dist, DEMO_DATA_DIR, 'train'), { recursive: true });
  writeFileSync(join(dist, DEMO_DATA_DIR, 'train', '_annotations.coco.json'), '{}');
  return { dist, moduleUrl: pathToFileURL(join(dist, 'demo-data.js')).href };
}

describe('demo data location', () => {
  const made: string[] = [];
  afterAll(() => made.forEach((d) => rmSync(resolve(d, '..'), { recursive: true, force: true })));

  it('from the sources there is no bundled copy: prepareDemo finds the repository data as before', () => {
    expect(bundledDemoRoot()).toBeUndefined();
    expect(demoLocation(undefined)).toEqual({});
    expect(demoLocation('my-run')).toEqual({ out: 'my-run' });
    expect(repoPath(DEMO_DATA_DIR)).toMatch(/examples\/plant-mini$/);
  });

  it('installed, the data next to dist/ is used and the run goes under the working directory', () => {
    const { dist, moduleUrl } = fakeInstall();
    made.push(dist);
    expect(bundledDemoRoot(moduleUrl)).toBe(dist);
    expect(demoLocation(undefined, moduleUrl)).toEqual({ cwd: dist, out: resolve('runs', 'demo') });
    expect(demoLocation('elsewhere', moduleUrl)).toEqual({ cwd: dist, out: resolve('elsewhere') });
  });

  it('prepareDemo trains on the bundled copy when given its location', async () => {
    const { dist, moduleUrl } = fakeInstall();
    made.push(dist);
    const out = join(dist, '..', 'run');
    const demo = await prepareDemo({ offline: true, ...demoLocation(out, moduleUrl) });
    expect(demo.config.data.root).toBe(join(dist, DEMO_DATA_DIR));
    expect(demo.config.out).toBe(resolve(out));
  });
});
