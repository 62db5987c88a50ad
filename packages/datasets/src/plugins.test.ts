import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findConfigFile, loadDatasetPlugins, PluginLoadError } from './plugins.js';
import { listDatasetAdapters, loadDataset, unregisterDatasetAdapter } from './registry.js';
import { repoRoot } from './test-utils/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-plugins-'));
afterAll(() => {
  unregisterDatasetAdapter('boxes-csv');
  unregisterDatasetAdapter('config-csv');
  rmSync(tmp, { recursive: true, force: true });
});
const plugin = join(import.meta.dirname, 'test-utils', 'boxes-csv-plugin.mjs');

/** A boxes.csv dataset of two plant-mini photos. */
function boxesDataset(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const src = join(repoRoot(), 'examples', 'plant-mini', 'train');
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

describe('dataset plugins', () => {
  it("loads the README's adapter from a file outside the repo, once, and the dataset is detected", async () => {
    const elsewhere = join(tmp, 'my-plugin.mjs');
    copyFileSync(plugin, elsewhere);
    expect(await loadDatasetPlugins(['./my-plugin.mjs'], tmp)).toEqual(['boxes-csv']);
    expect(await loadDatasetPlugins([elsewhere])).toEqual([]); // same module: not registered twice
    const ds = await loadDataset(boxesDataset(join(tmp, 'my-boxes')));
    expect(ds.format).toBe('boxes-csv');
    expect(ds.subsets.train?.map((i) => i.instances.length)).toEqual([1, 1]);
  });

  it('reads samtune.config.mjs {adapters, plugins} and names the plugin when it fails', async () => {
    const dir = join(tmp, 'project');
    mkdirSync(dir, { recursive: true });
    expect(findConfigFile(dir)).toBeUndefined();
    writeFileSync(
      join(dir, 'samtune.config.mjs'),
      "export default { adapters: [{ name: 'config-csv', detect: () => false, load: async () => ({ labels: [], items: [] }) }] };\n",
    );
    const found = findConfigFile(dir);
    expect(found).toBe(join(dir, 'samtune.config.mjs'));
    expect(await loadDatasetPlugins([found as string])).toEqual(['config-csv']);
    expect(listDatasetAdapters().some((a) => a.name === 'config-csv')).toBe(true);
    await expect(loadDatasetPlugins(['./missing.mjs'], dir)).rejects.toThrow(PluginLoadError);
    await expect(loadDatasetPlugins(['no-such-samtune-plugin'], dir)).rejects.toThrow(
      /expected a file path or an installed package name/,
    );
    writeFileSync(join(dir, 'bad.mjs'), 'export default 42;\n');
    await expect(loadDatasetPlugins(['./bad.mjs'], dir)).rejects.toThrow(
      /bad\.mjs\): expected the default export to be a dataset adapter .* got number/,
    );
  });
});
