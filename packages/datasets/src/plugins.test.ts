import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetFormatError, PluginAdapterError } from './errors.js';
import { findConfigFile, loadDatasetPlugins, PluginLoadError } from './plugins.js';
import { listDatasetAdapters, loadDataset, unregisterDatasetAdapter } from './registry.js';
import { repoRoot } from './test-utils/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-plugins-'));
afterAll(() => {
  unregisterDatasetAdapter('boxes-csv');
  unregisterDatasetAdapter('config-csv');
  unregisterDatasetAdapter('throws-detect');
  unregisterDatasetAdapter('throws-load');
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

describe('a failing plugin names its file (issue 22)', () => {
  const write = (name: string, code: string): string => {
    const file = join(tmp, 'failing', name);
    mkdirSync(join(tmp, 'failing'), { recursive: true });
    writeFileSync(file, code);
    return file;
  };

  it('a register function that throws', async () => {
    const file = write('throws.mjs', "export default () => { throw new TypeError('boom'); };\n");
    await expect(loadDatasetPlugins([file])).rejects.toThrow(
      new PluginLoadError(`loadDatasetPlugins(${file}): ${file}: registering the plugin threw TypeError: boom`),
    );
  });

  it('a top-level await that never settles: a bounded wait, then a named error (not a silent exit 13)', async () => {
    const file = write('hangs.mjs', 'await new Promise(() => {});\nexport default [];\n');
    await expect(loadDatasetPlugins([file], tmp, { timeoutMs: 200 })).rejects.toThrow(
      `loadDatasetPlugins(${file}): ${file}: the import did not settle within 200 ms (a top-level await or a registration that never ends?); set SAMTUNE_PLUGIN_TIMEOUT_MS to wait longer`,
    );
    const slow = write('slow-register.mjs', 'export default () => new Promise(() => {});\n');
    await expect(loadDatasetPlugins([slow], tmp, { timeoutMs: 200 })).rejects.toThrow(
      `${slow}: the default export (registration) did not settle within 200 ms`,
    );
  });

  it('a detect() that throws is passed over and reported; every other dataset still loads', async () => {
    if (!listDatasetAdapters().some((a) => a.name === 'boxes-csv')) await loadDatasetPlugins([plugin]);
    const file = write(
      'throws-detect.mjs',
      "export default { name: 'throws-detect', detect: () => { throw new Error('bad detect'); }, load: async () => ({ labels: [], items: [] }) };\n",
    );
    await loadDatasetPlugins([file]);
    const ds = await loadDataset(boxesDataset(join(tmp, 'boxes-2')));
    expect(ds.format).toBe('boxes-csv');
    expect(ds.subsets.train).toHaveLength(2);
    const problem = ds.skipped.find((p) => p.kind === 'plugin-adapter');
    expect(problem?.error).toBeInstanceOf(PluginAdapterError);
    expect(problem?.message).toBe(
      `loadDataset: ${file}: adapter 'throws-detect' (plugin ${file}): detect() threw Error: bad detect; the adapter was passed over`,
    );
    const empty = join(tmp, 'empty-ds');
    mkdirSync(empty);
    await expect(loadDataset(empty)).rejects.toThrow(DatasetFormatError);
    await expect(loadDataset(empty)).rejects.toThrow(`; adapter 'throws-detect' (plugin ${file}): detect() threw`);
  });

  it('a load() that throws a raw error is named with its plugin file', async () => {
    const file = write(
      'throws-load.mjs',
      "export default { name: 'throws-load', detect: () => false, load: async () => { throw new RangeError('bad load'); } };\n",
    );
    await loadDatasetPlugins([file]);
    const root = boxesDataset(join(tmp, 'boxes-3'));
    await expect(loadDataset(root, { format: 'throws-load' })).rejects.toThrow(
      new PluginAdapterError(
        { reader: 'loadDataset', file },
        `adapter 'throws-load' (plugin ${file}): load('${root}') threw RangeError: bad load`,
        'file',
      ),
    );
  });
});
