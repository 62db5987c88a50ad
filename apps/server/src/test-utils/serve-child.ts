/**
 * Test-only child process: `node --import tsx test-utils/serve-child.ts <images dir>` runs a real
 * server (the reference checkpoint, a free loopback port) on the folder, prints its URL as one line,
 * and closes on SIGTERM.
 */
import { startServer } from '../server.js';
import { referencePath } from './fixtures.js';

const srv = await startServer({
  model: { checkpoint: referencePath('tinyvit.pth') },
  imagesDir: process.argv[2] as string,
  port: 0,
});
process.stdout.write(`${srv.url}\n`);
process.once('SIGTERM', () => void srv.close().finally(() => process.exit(0)));
