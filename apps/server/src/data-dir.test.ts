/**
 * The default data folder is one per base checkpoint: the same images served with another checkpoint
 * start their own versions instead of refusing the folder (a `versions.json` of another base).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from './server.js';
import { referencePath } from './test-utils/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-data-dir-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
copyFileSync(referencePath('dog.jpg'), join(dir, 'dog.jpg'));
const sha12 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12);

describe('startServer: default data folder', () => {
  it('is <images>/.samtune/<sha256[:12]> of the checkpoint, so two checkpoints share an images folder', async () => {
    for (const name of ['tinyvit.pth', 'vit_mini.pth', 'tinyvit.pth']) {
      const checkpoint = referencePath(name);
      const srv = await startServer({ model: { checkpoint }, imagesDir: dir, port: 0 });
      try {
        const expected = join(dir, '.samtune', sha12(checkpoint));
        expect(srv.versions?.dataDir).toBe(expected);
        expect(existsSync(join(expected, 'versions.json'))).toBe(true);
        expect(srv.versions?.store.active).toBe('v0');
      } finally {
        await srv.close();
      }
    }
  });
});
