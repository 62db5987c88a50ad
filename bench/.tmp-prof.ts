import { loadSamCheckpoint, readSafetensors } from '@samtune/sam-model';
import { recordImageSideGraph, recordPromptGraph } from '../packages/sam-model/src/engines/ort-decoder/split-graphs.js';
import { recordPostprocessGraph } from '../packages/sam-model/src/engines/ort-decoder/postprocess-graph.js';
import * as ort from '../packages/onnx/node_modules/onnxruntime-node/dist/index.js';
import { readFileSync, writeFileSync } from 'node:fs';
const ref = '../shared/fixtures/sam-reference';
const ck = await loadSamCheckpoint(`${ref}/tinyvit.pth`);
const out = readSafetensors(`${ref}/tinyvit_outputs.safetensors`).tensors;
const emb = out.get([...out.keys()].find((k) => k.includes('dog.image_embeddings'))!)!;
const opt = { intraOpNumThreads: 1, graphOptimizationLevel: 'all' as const, enableProfiling: true, profileFilePrefix: '/tmp/ortq/prof' };
const img = await ort.InferenceSession.create(recordImageSideGraph(ck.config, ck.weights).builder.toModelBytes(), { ...opt, enableProfiling: false });
const side = await img.run({ image_embeddings: new ort.Tensor('float32', emb.data as Float32Array, [1, 256, 64, 64]) });
const pb = recordPromptGraph(ck.config, ck.weights).builder.toModelBytes();
writeFileSync('/tmp/ortq/prompt.onnx', pb);
const ps = await ort.InferenceSession.create(pb, { ...opt, optimizedModelFilePath: '/tmp/ortq/prompt.opt.onnx' });
const feeds: Record<string, ort.Tensor> = { ...(side as Record<string, ort.Tensor>),
  point_coords: new ort.Tensor('float32', Float32Array.from([400, 300, 500, 350, 0, 0]), [1, 3, 2]),
  point_labels: new ort.Tensor('float32', Float32Array.from([2, 3, -1]), [1, 3]) };
for (let i = 0; i < 20; i++) await ps.run(feeds);
const f = ps.endProfiling();
console.log('profile', f);
const post = await ort.InferenceSession.create(recordPostprocessGraph(ck.config, 'rle').builder.toModelBytes(), { ...opt, profileFilePrefix: '/tmp/ortq/post' });
const low = (await ps.run(feeds)).low_res_masks as ort.Tensor;
const one = new ort.Tensor('float32', (low.data as Float32Array).slice(0, 65536), [1, 1, 256, 256]);
for (let i = 0; i < 20; i++) await post.run({ low_res_masks: one, input_size: new ort.Tensor('int64', BigInt64Array.from([683n, 1024n]), [2]), original_size: new ort.Tensor('int64', BigInt64Array.from([534n, 800n]), [2]) });
console.log('post', post.endProfiling());
