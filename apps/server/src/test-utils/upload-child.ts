/**
 * Test-only child process: `node --import tsx test-utils/upload-child.ts <dir> <bytes>` stores an
 * upload of `<bytes>` bytes with `storeUpload` (run it under `ulimit -f` to make the write fail) and
 * prints one JSON line: the name, or the error reply the server would send.
 */
import { storeUpload } from '../images.js';
import { errorReply } from '../errors.js';

const [dir, size] = process.argv.slice(2) as [string, string];
try {
  console.log(JSON.stringify({ name: await storeUpload(dir, 'big.png', 'png', new Uint8Array(Number(size)).fill(7)) }));
} catch (err) {
  console.log(JSON.stringify(errorReply(err)));
}
