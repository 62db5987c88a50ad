/**
 * Child process of `bench:hostile`: `tsx --conditions=@samtune/source bench/hostile-child.ts <kind>
 * <path>` loads one hostile input the way samtune does and prints one JSON line: whether it loaded,
 * the named error (class and message) that refused it, and the process's peak RSS in MiB.
 * Kinds: `none` (imports only: the baseline), `pth`, `safetensors`, `dataset` (loadDataset, then every
 * instance's mask; the first skipped entry is the refusal).
 */
import { loadDataset } from '@samtune/datasets';
import { readSafetensors, readTorchCheckpoint } from '@samtune/tensor-files';

const [kind, path] = process.argv.slice(2) as [string, string];
let result: Record<string, unknown>;
try {
  if (kind === 'pth') result = { ok: true, detail: `${readTorchCheckpoint(path).size} tensors` };
  else if (kind === 'safetensors') result = { ok: true, detail: `${readSafetensors(path).tensors.size} tensors` };
  else if (kind === 'dataset') {
    const ds = await loadDataset(path);
    let pixels = 0;
    let masks = 0;
    for (const item of Object.values(ds.subsets).flat())
      for (const inst of item.instances) {
        const m = await inst.mask();
        masks++;
        for (const v of m.data) pixels += v;
      }
    const skip = ds.skipped[0];
    result = skip
      ? { ok: false, error: skip.error.name, message: skip.message, detail: `${masks} masks` }
      : { ok: true, detail: `${masks} masks, ${pixels} pixels` };
  } else result = { ok: true, detail: 'imports only' };
} catch (err) {
  const e = err as Error;
  result = { ok: false, error: e.name, message: e.message };
}
console.log(JSON.stringify({ ...result, maxRssMiB: +(process.resourceUsage().maxRSS / 1024).toFixed(1) }));
