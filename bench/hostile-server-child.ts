/**
 * Child of `bench/hostile-server.bench.ts`: a real server (reference MobileSAM checkpoint, loopback,
 * free port) on the folder `argv[2]` with `maxBodyBytesInFlight` = `argv[3]` bytes; prints its URL.
 */
import { resolve } from 'node:path';
import { startServer } from '../apps/server/src/index.js';

const ref = resolve(import.meta.dirname, '../../shared/fixtures/sam-reference');
const srv = await startServer({
  model: { checkpoint: resolve(ref, 'tinyvit.pth') },
  imagesDir: process.argv[2] as string,
  port: 0,
  maxBodyBytesInFlight: Number(process.argv[3]),
});
process.stdout.write(`${srv.url}\n`);
process.once('SIGTERM', () => void srv.close().finally(() => process.exit(0)));
