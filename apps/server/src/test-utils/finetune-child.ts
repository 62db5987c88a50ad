/**
 * Test-only child process: `node --import tsx test-utils/finetune-child.ts <images dir> [auto-train N]` runs a
 * real server with fine-tuning (the reference checkpoint, a free loopback port, data folder
 * `<images>/.samtune`), prints its URL as one line, and closes on SIGTERM (a test may SIGKILL it).
 */
import { startServer } from '../server.js';
import { referencePath } from './fixtures.js';

const srv = await startServer({
  model: { checkpoint: referencePath('tinyvit.pth') },
  imagesDir: process.argv[2] as string,
  port: 0,
  finetune: { epochs: 1, clicks: 3, autoTrain: Number(process.argv[3] ?? 0) },
});
process.stdout.write(`${srv.url}\n`);
process.once('SIGTERM', () => void srv.close().finally(() => process.exit(0)));
