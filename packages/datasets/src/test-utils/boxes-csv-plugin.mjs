// The README's worked adapter example (`boxes.csv` rows `file,label,x1,y1,x2,y2` next to the images)
// as a plugin file for `samtune --plugin <file>`: the default export receives the samtune API, so
// the file needs no import of @samtune/datasets and works wherever it lives. Used by the tests of
// @samtune/datasets (plugins.test.ts), the CLI and the training worker.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export default function register(samtune) {
  const { boxMask, checkBox, DatasetError, UnknownCategoryError } = samtune;
  samtune.registerDatasetAdapter({
    name: 'boxes-csv',
    detect: async (root) => (await readFile(join(root, 'boxes.csv'), 'utf8').catch(() => '')).startsWith('file,label'),
    async load(root, ctx) {
      const file = join(root, 'boxes.csv');
      const rows = (await readFile(file, 'utf8'))
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(','));
      const names = [...new Set(rows.map((r) => r[1] ?? ''))].sort();
      const labels = names.map((name, id) => ({ id, name }));
      const items = [];
      for (const fileName of [...new Set(rows.map((r) => r[0] ?? ''))]) {
        const subset = rows.find((r) => r[0] === fileName)?.[6] ?? 'train';
        const loc = { reader: 'boxes-csv', file, subset, itemId: fileName };
        const imagePath = await ctx.containedPath([root], fileName, loc, 'file');
        const size = imagePath && (await ctx.checkImage(imagePath, loc));
        if (!imagePath || !size) continue;
        const instances = [];
        for (const [i, r] of rows.entries()) {
          if (r[0] !== fileName) continue;
          try {
            const label = labels.find((l) => l.name === r[1]);
            if (!label) throw new UnknownCategoryError({ ...loc, annotationId: `row ${i + 2}` }, r[1] ?? '', names);
            const box = checkBox(r.slice(2, 6).map(Number), size, { ...loc, annotationId: `row ${i + 2}` });
            instances.push({
              id: `row${i + 2}`,
              label,
              box,
              iscrowd: false,
              maskSource: 'box',
              attributes: {},
              mask: () => boxMask(box, size.width, size.height),
            });
          } catch (err) {
            if (err instanceof DatasetError) ctx.report(err);
            else throw err;
          }
        }
        items.push({ id: fileName, subset, imagePath, ...size, instances });
      }
      return { labels, items };
    },
  });
}
