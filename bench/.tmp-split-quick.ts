import { loadSamCheckpoint, OrtDecoder, readSafetensors } from '@samtune/sam-model';
import { floatTensor, type FloatTensor } from '@samtune/onnx';
const ref = '../shared/fixtures/sam-reference';
const ck = await loadSamCheckpoint(`${ref}/tinyvit.pth`);
const out = readSafetensors(`${ref}/tinyvit_outputs.safetensors`).tensors;
const key = [...out.keys()].find((k) => k.includes('dog.image_embeddings'))!;
const embedding = out.get(key) as FloatTensor;
const box = [338, 248, 415, 281] as const;
const size: [number, number] = [534, 800];
const N = Number(process.env.N ?? 20);
async function time(label: string, f: () => Promise<unknown>) {
  for (let i = 0; i < 3; i++) await f();
  const xs: number[] = []; const cs: number[] = [];
  for (let i = 0; i < N; i++) { const c = process.cpuUsage(); const t = performance.now(); await f(); xs.push(performance.now() - t); const u = process.cpuUsage(c); cs.push((u.user + u.system) / 1000); }
  xs.sort((a, b) => a - b); cs.sort((a, b) => a - b);
  console.log(label, 'wall', xs[N >> 1]!.toFixed(1), 'cpu', cs[N >> 1]!.toFixed(1), 'min', xs[0]!.toFixed(1));
}
for (const [name, opts] of [['unsplit', { splitDecoder: false }], ['split', {}]] as const) {
  const d = new OrtDecoder(ck.config, ck.weights, opts);
  for (const mo of (process.env.OUTS ?? 'none,logits').split(',') as ('none'|'logits'|'rle')[])
    await time(`${name} ${mo}`, () => d.predict(embedding, { box: [...box] as never }, size, { multimask: false, maskOutput: mo }));
  await d.release();
}
