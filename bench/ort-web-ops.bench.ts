/**
 * `pnpm bench:ort-web-ops`: why a click decoded in the page costs what it does, in headless
 * Chromium's onnxruntime-web (wasm; Debian's Chromium through playwright-core), all in one run:
 * - the page's prompt graph (reference MobileSAM checkpoint, the 800x534 dog photo's cropped head,
 *   a random embedding's image side) in its forms, alternated run by run: the page form
 *   (`recordPromptGraph({ wasm: true })`), the form before it (onnxruntime's LayerNormalization
 *   kernels) and the page form on 2 wasm threads (a second page); the worst difference of their
 *   low-res logits;
 * - one-op models of a click's shapes, alternated too: GEMMs (multiply-adds per second), and
 *   LayerNorm / Gelu / Erf / Tanh / Add chained 10 times (ns per element); at p50 and in the
 *   fastest run (the machine is shared: the fastest run is the least disturbed);
 * - a click's multiply-adds, set against what the GEMMs alone need at the best rate measured.
 * Writes bench/results/ort-web-ops.{json,md}. Usage: pnpm bench:ort-web-ops [--rounds 30]
 */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadSamCheckpoint, recordImageSideGraph } from '@samtune/sam-model';
import { launchChromium } from '../apps/server/src/test-utils/browser.js';
import { machineInfo, median, writeResult } from './machine.js';
import { GRAPH_VARIANTS, OP_VARIANTS, type Variant } from './ort-web-variants.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '30' } } });
const rounds = Math.min(200, Math.max(5, Number(values.rounds)));
const repo = resolve(import.meta.dirname, '..');
const machine = machineInfo();
const { config, weights } = await loadSamCheckpoint(resolve(repo, '../shared/fixtures/sam-reference/tinyvit.pth'));
const ortDist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
const HEAD: [number, number] = [44, 64]; // grid rows, cols the dog photo's head keeps (headSizeFor)

const variants: readonly Variant[] = [...GRAPH_VARIANTS, ...OP_VARIANTS];
const files = new Map<string, Uint8Array>([
  ['image_side', recordImageSideGraph(config, weights).builder.toModelBytes()],
]);
for (const v of variants) if (!files.has(v.model)) files.set(v.model, v.build(config, weights));

// loopback only; cross-origin isolated (threads)
const server = createServer((req, res) => {
  const url = req.url ?? '/';
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('cross-origin-embedder-policy', 'require-corp');
  const name = url.slice(url.lastIndexOf('/') + 1);
  if (url.startsWith('/ort/') && /^ort[\w.-]+\.m?(js|wasm)$/.test(name)) {
    res.setHeader('content-type', name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
    res.end(readFileSync(join(ortDist, name)));
  } else if (url.startsWith('/m/') && files.has(name)) res.end(files.get(name));
  else res.setHeader('content-type', 'text/html').end('<!doctype html><title>bench</title>');
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
const browser = await launchChromium();
try {
  // one page per thread count (onnxruntime-web's threads are set once per page)
  const pages = new Map<number, Awaited<ReturnType<typeof browser.newPage>>>();
  for (const t of new Set(variants.map((v) => v.threads))) {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.evaluate(`(async () => {
      const ort = await import('/ort/ort.wasm.min.mjs');
      Object.assign(ort.env.wasm, { wasmPaths: '/ort/', numThreads: ${t}, proxy: false });
      window.ort = ort;
      window.bytes = async (n) => new Uint8Array(await (await fetch('/m/' + n)).arrayBuffer());
      // the page's session options (apps/server/src/public/decoder.js)
      window.opts = { executionProviders: ['wasm'], graphOptimizationLevel: 'all',
        extra: { optimization: { disable_specified_optimizers: 'SkipLayerNormFusion' }, session: { intra_op: { allow_spinning: '0' } } } };
      let s = 12345;
      window.rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
      const side = await ort.InferenceSession.create(await bytes('image_side'), opts);
      const emb = new Float32Array(256 * 64 * 64).map(() => rnd() * 0.5);
      window.side = await side.run({ image_embeddings: new ort.Tensor('float32', emb, [1, 256, 64, 64]) });
      window.sessions = {};
      window.feeds = {};
    })()`);
    pages.set(t, page);
  }
  for (const v of variants)
    await pages.get(v.threads)!.evaluate(`(async () => {
      sessions[${JSON.stringify(v.name)}] = await ort.InferenceSession.create(await bytes(${JSON.stringify(v.model)}), opts);
      const fs = ${JSON.stringify(v.feeds ?? null)};
      if (fs) feeds[${JSON.stringify(v.name)}] = Object.fromEntries(Object.entries(fs).map(([k, shape]) =>
        [k, new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)).map(rnd), shape)]));
    })()`);

  // prompts as the page sends them (1024 frame): a point + padding point, or a box's corners
  const prompts = Array.from({ length: rounds }, (_, i) => {
    const [x, y, s] = [120 + ((i * 97) % 560), 90 + ((i * 61) % 360), 1024 / 800];
    return i % 4 === 3
      ? { coords: [(x - 100) * s, (y - 80) * s, (x + 100) * s, (y + 80) * s], labels: [2, 3] }
      : { coords: [x * s, y * s, 0, 0], labels: [1, -1] };
  });
  const times = new Map(variants.map((v) => [v.name, [] as number[]]));
  const worstDiff = new Map<string, number>();
  for (const p of prompts) {
    let ref: number[] | null = null;
    for (const v of variants) {
      const r = (await pages.get(v.threads)!.evaluate(`(async () => {
        const n = ${p.labels.length};
        const feed = feeds[${JSON.stringify(v.name)}] ?? { ...side,
          point_coords: new ort.Tensor('float32', Float32Array.from(${JSON.stringify(p.coords)}), [1, n, 2]),
          point_labels: new ort.Tensor('float32', Float32Array.from(${JSON.stringify(p.labels)}), [1, n]),
          head_size: new ort.Tensor('int64', BigInt64Array.from([${HEAD[0]}n, ${HEAD[1]}n]), [2]) };
        const t = performance.now();
        const out = await sessions[${JSON.stringify(v.name)}].run(feed);
        const ms = performance.now() - t;
        const m = out.low_res_masks?.data;
        return { ms, sample: m ? Array.from(m.filter((_, i) => i % 97 === 0)) : null };
      })()`)) as { ms: number; sample: number[] | null };
      times.get(v.name)!.push(r.ms);
      if (!r.sample) continue;
      if (!ref) ref = r.sample;
      else
        worstDiff.set(v.name, Math.max(worstDiff.get(v.name) ?? 0, ...r.sample.map((x, i) => Math.abs(x - ref![i]!))));
    }
  }

  const pct = (xs: readonly number[], q: number): number =>
    [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)]!;
  const r1 = (x: number): number => +x.toFixed(1);
  const graphs = GRAPH_VARIANTS.map((v) => {
    const xs = times.get(v.name)!;
    return {
      name: v.name,
      what: v.what,
      p50: r1(median(xs)),
      p99: r1(pct(xs, 0.99)),
      min: r1(Math.min(...xs)),
      worstAbsDiffVsPage: worstDiff.get(v.name) ?? 0,
    };
  });
  const ops = OP_VARIANTS.map((v) => {
    const xs = times.get(v.name)!;
    const [p50, min] = [median(xs), Math.min(...xs)];
    const rate = (ms: number): number => (v.macs ? v.macs / ms / 1e6 : (ms * 1e6) / v.elements!);
    return {
      name: v.name,
      what: v.what,
      p50Ms: +p50.toFixed(2),
      minMs: +min.toFixed(2),
      /** GMAC/s (GEMMs) or ns per element, at p50 and in the fastest run. */
      unit: v.macs ? 'GMAC/s' : 'ns/element',
      rateP50: +rate(p50).toFixed(2),
      rateBest: +rate(min).toFixed(2),
    };
  });
  // a click's multiply-adds (SAM: 7 tokens, 8 heads, 4096 image tokens, C 256, inner 128; the dog photo's head)
  const [T, H, HW, C, I, P] = [7, 8, 64 * 64, 256, 128, HEAD[0] * HEAD[1]];
  const macs = {
    block0: 2 * T * HW * I + HW * I * H * T + HW * H * T * C,
    block1: 4 * H * T * C * HW,
    finalAttention: 2 * H * T * C * HW,
    maskHead: P * C * C + 4 * P * (C / 4) * (C / 2) + 16 * P * (C / 8) * 4,
  };
  const totalMacs = Object.values(macs).reduce((a, b) => a + b, 0);
  const rate = Math.max(...ops.filter((o) => o.unit === 'GMAC/s').map((o) => o.rateBest));
  const gemmFloorMs = +(totalMacs / rate / 1e6).toFixed(1);
  const result = {
    bench: 'ort-web-ops',
    machine,
    loadAverageEnd1m: machineInfo().loadAverage1m,
    engine: 'onnxruntime-web 1.30.0, wasm (SIMD), headless Chromium',
    rounds,
    graphs,
    ops,
    click: { macs, totalMacs, bestGemmGmacPerS: rate, gemmFloorMs },
  };
  const page = graphs[0]!;
  const md = [
    '# bench:ort-web-ops',
    '',
    `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; load average ${machine.loadAverage1m} at the start, ${result.loadAverageEnd1m} at the end (other work shares the machine: compare the rows of this run). ${result.engine}; every model below alternated run by run, ${rounds} rounds.`,
    '',
    '| prompt graph (tiny_vit, 44x64 head) | p50 ms | p99 ms | min ms | vs page p50 | worst abs diff of the logits vs page |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...graphs.map(
      (g) =>
        `| ${g.what} | ${g.p50} | ${g.p99} | ${g.min} | ${(g.p50 / page.p50).toFixed(2)}x | ${g.worstAbsDiffVsPage.toExponential(1)} |`,
    ),
    '',
    '| one op (random inputs) | p50 ms | min ms | rate at p50 | rate, fastest run |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...ops.map((o) => `| ${o.what} | ${o.p50Ms} | ${o.minMs} | ${o.rateP50} ${o.unit} | ${o.rateBest} ${o.unit} |`),
    '',
    `- A click's GEMMs: ${(totalMacs / 1e6).toFixed(0)} M multiply-adds (block 0 ${(macs.block0 / 1e6).toFixed(0)} M with its image side precomputed, block 1 ${(macs.block1 / 1e6).toFixed(0)} M, final attention ${(macs.finalAttention / 1e6).toFixed(0)} M, mask head ${(macs.maskHead / 1e6).toFixed(0)} M); at the best GEMM rate measured here (${rate} GMAC/s: the fastest run of the fastest GEMM, one thread, input copy included) they alone take ${gemmFloorMs} ms, before any LayerNorm, GELU, softmax, post-processing or RLE.`,
  ].join('\n');
  writeResult(join(repo, 'bench/results/ort-web-ops.json'), JSON.stringify(result, null, 2));
  writeResult(join(repo, 'bench/results/ort-web-ops.md'), md);
  console.log(md);
} finally {
  await browser.close();
  server.close();
}
