/**
 * `pnpm bench:label-loop`: the labelling loop's click latency, all in one run, on loopback only.
 * The server (reference MobileSAM checkpoint) runs in this process with its model in its worker
 * thread; the page runs in Debian's headless Chromium (playwright-core, no browser download).
 * - the page loading onnxruntime-web and the decoder (`GET /api/decoder-split`): time and bytes;
 * - browser decode per click (onnxruntime-web wasm, one thread: prompt -> masks as RLE, measured in
 *   the page): p50/p99 over `--clicks` clicks and boxes at varied places, no `/api/predict` call;
 *   then the page's prompts again, alternating click by click between the split decoder (1 thread),
 *   the split decoder on 2 threads and the single-graph decoder (`GET /api/decoder.onnx`, the page
 *   before the split), each in its own page; the masks against the server's (worst IoU); and
 *   onnxruntime-web's per-node profile of the split decoder (time per op type and slowest nodes);
 * - server-side `POST /api/predict` for the same prompts (sequential, cached embedding): p50/p99;
 * - the embedding transfer: float16 vs float32 bytes, and the masks decoded in the page from each
 *   (IoU of every mask, pixels that differ) so float16 is shown to keep the masks within tolerance.
 * - then the loop under training (label-loop-training.ts): 20 accepted box masks (`makeBoxDomain`, a
 *   domain where fine-tuning helps) saved into the images folder, Fine-tune pressed on the page
 *   `--runs` times, and while each runs the same mixed load as an idle phase just before it: clicks
 *   in the page (mouse event to mask drawn), `POST /api/predict` and `GET /api/health` from here;
 *   p50/p99 of each, idle vs training, the clicks during the page's decoder swap apart; the time
 *   from pressing Fine-tune to the gate and to the new version serving in the page.
 * Writes bench/results/label-loop.{json,md}; `--decode-only` stops after the decode rows (and writes
 * label-loop-decode.{json,md}); `--training-only` runs only the training section (and writes
 * label-loop-training.{json,md}).
 * Usage: pnpm bench:label-loop [--clicks 40] [--epochs 2] [--lr 0.02] [--runs 1] [--idle-clicks 100]
 *   [--decode-only | --training-only]
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startServer } from '../apps/server/src/server.js';
import { clientPoint, idle, launchChromium } from '../apps/server/src/test-utils/browser.js';
import { planeIou } from '../apps/server/src/test-utils/masks.js';
import { cocoRleToMask, type CocoRle } from '../apps/server/src/rle.js';
import { apiFetch } from '../apps/server/src/test-utils/http.js';
import { machineInfo, median, writeResult } from './machine.js';
import { profileArrays, summarizeProfile } from './ort-profile.js';
import { stats, trainingSection } from './label-loop-training.js';

/** A prompt as the page sends it (`window.samtunePage.prompts()`, the body of `POST /api/predict`). */
type Prompt = { id: string; points: number[][]; box: number[] | null };

const { values } = parseArgs({
  options: {
    clicks: { type: 'string', default: '40' },
    epochs: { type: 'string', default: '2' },
    lr: { type: 'string', default: '0.02' },
    'decode-only': { type: 'boolean', default: false },
    'training-only': { type: 'boolean', default: false },
    runs: { type: 'string', default: '1' },
    'idle-clicks': { type: 'string', default: '100' },
  },
});
const clicks = Math.min(500, Math.max(10, Number(values.clicks)));
const epochs = Math.min(50, Math.max(1, Number(values.epochs)));
const lr = Number(values.lr);
const runs = Math.min(10, Math.max(1, Number(values.runs)));
const idleClicks = Math.min(1000, Math.max(10, Number(values['idle-clicks'])));
const repo = resolve(import.meta.dirname, '..');
const ref = resolve(repo, '../shared/fixtures/sam-reference');
const TOKEN = 'bench-label-loop-0123456789';

/** Prompts at varied places of the 800x534 dog photo: single points (3 masks) and boxes (1 mask). */
function prompts(n: number): { points: number[][]; box: number[] | null }[] {
  return Array.from({ length: n }, (_, i) => {
    const x = 120 + ((i * 97) % 560);
    const y = 90 + ((i * 61) % 360);
    return i % 4 === 3
      ? { points: [], box: [Math.max(0, x - 100), Math.max(0, y - 80), Math.min(799, x + 100), Math.min(533, y + 80)] }
      : { points: [[x, y, 1]], box: null };
  });
}

const machine = machineInfo();
const dir = mkdtempSync(join(tmpdir(), 'samtune-bench-label-loop-'));
copyFileSync(join(ref, 'dog.jpg'), join(dir, 'dog.jpg'));
const srv = await startServer({
  model: { checkpoint: join(ref, 'tinyvit.pth') },
  imagesDir: dir,
  port: 0,
  token: TOKEN,
});
const browser = await launchChromium();
const cleanUp = async (): Promise<void> => {
  await browser.close();
  await srv.close();
  rmSync(dir, { recursive: true, force: true });
};
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 }, bypassCSP: true });
  let predictCalls = 0;
  page.on('request', (r) => {
    if (r.url().endsWith('/api/predict')) predictCalls++;
  });
  const t0 = performance.now();
  await page.goto(`${srv.url}/#token=${TOKEN}`);
  await page.waitForFunction("window.samtunePage.mode === 'browser'", undefined, { timeout: 120_000 });
  const decoderLoadMs = performance.now() - t0;
  await page.click('#images li[title="dog.jpg"]');
  await page.waitForFunction("document.getElementById('status').textContent.startsWith('dog.jpg: 800x534')");
  await idle(page);
  const id = (await page.evaluate('window.samtunePage.prompts().id')) as string;

  /** One prompt through the page's own mouse handling; the page's decode record of it. */
  const clickOnce = async (p: {
    points: number[][];
    box: number[] | null;
  }): Promise<{ ms: number; runMs: number; masks: CocoRle[]; prompts: Prompt }> => {
    await page.keyboard.press('Escape');
    const n = (await page.evaluate('window.samtunePage.decodes.length')) as number;
    if (p.box) {
      const [x0, y0] = await clientPoint(page, p.box[0]!, p.box[1]!);
      const [x1, y1] = await clientPoint(page, p.box[2]!, p.box[3]!);
      await page.mouse.move(x0, y0);
      await page.mouse.down();
      await page.mouse.move(x1, y1, { steps: 4 });
      await page.mouse.up();
    } else {
      const [cx, cy] = await clientPoint(page, p.points[0]![0]!, p.points[0]![1]!);
      await page.mouse.click(cx, cy);
    }
    await page.waitForFunction(`window.samtunePage.decodes.length > ${n}`);
    const d = (await page.evaluate(`window.samtunePage.decodes[${n}]`)) as { mode: string; ms: number; runMs: number };
    if (d.mode !== 'browser')
      throw new Error(`bench:label-loop: expected the click decoded in the browser, got ${d.mode}`);
    return {
      ...d,
      masks: (await page.evaluate('window.samtunePage.last.masks')) as CocoRle[],
      prompts: (await page.evaluate('window.samtunePage.prompts()')) as Prompt,
    };
  };
  /** One request from here; its round-trip time (and its reply, as text). */
  const request = async (path: string, body?: unknown): Promise<{ ms: number; text: string }> => {
    const t = performance.now();
    const res = await apiFetch(srv.url, TOKEN, path, body);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`bench:label-loop: ${path} answered ${res.status}`);
    return { ms: performance.now() - t, text };
  };
  const timed = async (path: string, body?: unknown): Promise<number> => (await request(path, body)).ms;
  /** The worst IoU of masks `a[i][k]` against `b[i][k]`. */
  const worstIou = (a: CocoRle[][], b: CocoRle[][]): number =>
    Math.min(...a.flatMap((ms, i) => ms.map((m, k) => planeIou(cocoRleToMask(m).data, cocoRleToMask(b[i]![k]!).data))));

  /** Writes bench/results/<name>.{json,md}, prints the markdown, and ends the bench. */
  const writeAndExit = async (name: string, result: unknown, md: string): Promise<never> => {
    writeResult(join(repo, `bench/results/${name}.json`), JSON.stringify(result, null, 2));
    writeResult(join(repo, `bench/results/${name}.md`), md);
    console.log(md);
    await cleanUp();
    process.exit(0);
  };
  const set = prompts(clicks);
  const training = (): ReturnType<typeof trainingSection> =>
    trainingSection({ page, dir, id, set, clickOnce, timed, runs, epochs, lr, idleClicks });
  if (values['training-only']) {
    const { json, md: lines } = await training();
    const result = {
      bench: 'label-loop --training-only',
      machine,
      loadAverageEnd1m: machineInfo().loadAverage1m,
      model: srv.worker.info.model,
      image: 'dog.jpg 800x534',
      duringFinetune: json,
    };
    const md = [
      '# bench:label-loop --training-only',
      '',
      `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; load average ${machine.loadAverage1m} at the start, ${result.loadAverageEnd1m} at the end (other work shares the machine: compare the rows of one run, not absolute times). ${result.model}, ${result.image}; the page's decoder in a worker: ${String(await page.evaluate('window.samtunePage.decoderInWorker'))}.`,
      '',
      ...lines,
    ].join('\n');
    await writeAndExit('label-loop-training', result, md);
  }

  // browser decode per click
  const browserMs: number[] = [];
  const runMs: number[] = [];
  const pagePrompts: Prompt[] = [];
  const pageMasks: CocoRle[][] = [];
  for (const p of set) {
    const d = await clickOnce(p);
    browserMs.push(d.ms);
    runMs.push(d.runMs);
    pagePrompts.push(d.prompts);
    pageMasks.push(d.masks);
  }

  // The page's prompts again, alternating between decoders under the same load: in this page (one
  // onnxruntime-web thread) the split decoder; in a second page onnxruntime-web on two threads with
  // the split decoder; in a third on one thread the single-graph decoder (the page's path before).
  // Those pages open with `#decode=server`: their app loads no decoder, so each PageDecoder made
  // here sets up its page's onnxruntime-web.
  const otherPage = async (): Promise<typeof page> => {
    const p = await browser.newPage({ bypassCSP: true });
    await p.goto(`${srv.url}/#decode=server&token=${TOKEN}`);
    return p;
  };
  const [onePage, twoPage] = [await otherPage(), await otherPage()];
  const variants = [
    { name: 'split', page, options: { form: 'split' } },
    { name: 'split2', page: twoPage, options: { form: 'split', threads: 2 } },
    { name: 'single1', page: onePage, options: { form: 'single', threads: 1 } },
  ] as const;
  type Variant = (typeof variants)[number]['name'];
  const ab = {} as Record<
    Variant,
    { ms: number[]; runMs: number[]; masks: CocoRle[][]; bytes: number; threads: number }
  >;
  for (const v of variants)
    ab[v.name] = (await v.page.evaluate(`(async () => {
      const { PageDecoder } = await import('/decoder.js');
      const d = new PageDecoder(${JSON.stringify(v.options)});
      await d.load('bench-${v.name}');
      await d.decode(${JSON.stringify(id)}, [], [0, 0, 10, 10], 0); // the embedding and its image side
      (window.benchDecoders ??= {})['${v.name}'] = d;
      return { ms: [], runMs: [], masks: [], bytes: d.bytes, threads: d.ort.env.wasm.numThreads };
    })()`)) as (typeof ab)[Variant];
  for (const p of pagePrompts)
    for (const v of variants) {
      const r = (await v.page.evaluate(
        `window.benchDecoders['${v.name}'].decode(${JSON.stringify(p.id)}, ${JSON.stringify(p.points)}, ${JSON.stringify(p.box)}, 0)`,
      )) as { ms: number; runMs: number; masks: CocoRle[] };
      ab[v.name].ms.push(r.ms);
      ab[v.name].runMs.push(r.runMs);
      ab[v.name].masks.push(r.masks);
    }

  // onnxruntime's per-node profile of the split decoder on one thread, over the same prompts
  const consoleLines: string[] = [];
  onePage.on('console', (m) => consoleLines.push(m.text()));
  await onePage.evaluate(`(async () => {
    const { PageDecoder } = await import('/decoder.js');
    const d = new PageDecoder({ form: 'split', threads: 1, profile: true });
    await d.load('bench-profile');
    for (const p of ${JSON.stringify(pagePrompts)}) await d.decode(p.id, p.points, p.box, 0);
    d.endProfiling();
  })()`);
  await onePage.close();
  await twoPage.close();
  const [imageSideProfile, promptProfile] = profileArrays(consoleLines).map((events) => summarizeProfile(events));
  if (!imageSideProfile || !promptProfile)
    throw new Error(
      `bench:label-loop: expected 2 onnxruntime profiles (image side, prompt) in the page's console, got ${profileArrays(consoleLines).length}`,
    );
  const profile = { imageSide: imageSideProfile, prompt: promptProfile };

  // server-side /api/predict for the same prompts, sequential
  const serverMs: number[] = [];
  const serverMasks: CocoRle[][] = [];
  for (const p of pagePrompts) {
    const r = await request('/api/predict', p);
    serverMs.push(r.ms);
    serverMasks.push((JSON.parse(r.text) as { masks: CocoRle[] }).masks);
  }
  const agreement = {
    pageVsServerWorstIou: +worstIou(pageMasks, serverMasks).toFixed(5),
    singleVsServerWorstIou: +worstIou(ab.single1.masks, serverMasks).toFixed(5),
    masksCompared: serverMasks.flat().length,
  };
  const decodeRows = {
    page: { decodeMs: stats(browserMs), runMs: stats(runMs) },
    threads: ab.split.threads,
    alternating: Object.fromEntries(
      variants.map((v) => [
        v.name,
        {
          threads: ab[v.name].threads,
          decodeMs: stats(ab[v.name].ms),
          runMs: stats(ab[v.name].runMs),
          decoderBytes: ab[v.name].bytes,
        },
      ]),
    ) as Record<
      Variant,
      { threads: number; decodeMs: ReturnType<typeof stats>; runMs: ReturnType<typeof stats>; decoderBytes: number }
    >,
    /** p50 of the single-graph one-thread decoder (the page before) over the page's split decoder. */
    speedupP50: +(median(ab.single1.ms) / median(ab.split.ms)).toFixed(2),
    /** p50 of the split decoder on two threads over the page's split decoder (one thread). */
    threadsSpeedupP50: +(median(ab.split2.ms) / median(ab.split.ms)).toFixed(2),
  };
  const row = (what: string, x: { n: number; p50: number; p99: number; max: number }): string =>
    `| ${what} | ${x.n} | ${x.p50} | ${x.p99} | ${x.max} |`;
  const alt = decodeRows.alternating;
  const decodeTable = [
    '| what | n | p50 ms | p99 ms | max ms |',
    '| --- | ---: | ---: | ---: | ---: |',
    row(
      `browser decode per click on the page (split decoder, wasm threads: ${decodeRows.threads}; ORT runs + masks to RLE)`,
      decodeRows.page.decodeMs,
    ),
    row("of which the prompt model's ORT run", decodeRows.page.runMs),
    row(
      'of which the post-processing to RLE in JS (the kept 1 or 3 masks to 534x800)',
      stats(browserMs.map((ms, i) => ms - runMs[i]!)),
    ),
    row(`same prompts, alternating: split decoder, threads: ${alt.split.threads} (the page)`, alt.split.decodeMs),
    row(`same prompts, alternating: split decoder, threads: ${alt.split2.threads}`, alt.split2.decodeMs),
    row(
      `same prompts, alternating: single-graph decoder, threads: ${alt.single1.threads} (the page before)`,
      alt.single1.decodeMs,
    ),
    row('server `POST /api/predict` (same prompts, round trip)', stats(serverMs)),
    '',
    `- Alternating click by click: the page before (single graph, 1 thread) takes ${decodeRows.speedupP50}x the page's time at p50; the split decoder on ${alt.split2.threads} threads (\`#threads=2\`) ${decodeRows.threadsSpeedupP50}x. Decoder download: split ${(alt.split.decoderBytes / 1e6).toFixed(1)} MB (3 models), single ${(alt.single1.decoderBytes / 1e6).toFixed(1)} MB.`,
    `- Masks against the server's \`/api/predict\` (${agreement.masksCompared} masks): worst IoU ${agreement.pageVsServerWorstIou} (the page's clicks), ${agreement.singleVsServerWorstIou} (single-graph decoder).`,
    '',
    `### Where a click's time goes (onnxruntime-web profile, split decoder, 1 thread, ${promptProfile.runs} clicks)`,
    '',
    `Per run: image side ${imageSideProfile.runMs} ms (${imageSideProfile.runs} run: once per image, when its embedding arrives), prompt graph ${promptProfile.runMs} ms per click. Profiling adds some time per node.`,
    '',
    '| prompt graph: op | ms per click | share |',
    '| --- | ---: | ---: |',
    ...promptProfile.ops.slice(0, 10).map((o) => `| ${o.op} | ${o.ms} | ${(o.share * 100).toFixed(1)}% |`),
    '',
    '| slowest nodes of the prompt graph | op | inputs | ms per click |',
    '| --- | --- | --- | ---: |',
    ...promptProfile.nodes.map((x) => `| ${x.node} | ${x.op} | ${x.inputs} | ${x.ms} |`),
  ];
  if (values['decode-only']) {
    const result = {
      bench: 'label-loop --decode-only',
      machine,
      loadAverageEnd1m: machineInfo().loadAverage1m,
      model: srv.worker.info.model,
      image: 'dog.jpg 800x534',
      clicks,
      engine: `onnxruntime-web 1.30.0, wasm, threads: ${decodeRows.threads}, headless Chromium`,
      browser: decodeRows,
      server: { predictMs: stats(serverMs) },
      agreement,
      profile,
      predictCallsDuringClicks: predictCalls,
    };
    const md = [
      '# bench:label-loop --decode-only',
      '',
      `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; load average ${machine.loadAverage1m} at the start, ${result.loadAverageEnd1m} at the end (other work shares the machine: compare the rows of this run, not absolute times). ${result.model}, ${result.image}, ${clicks} prompts (3 points per box). \`/api/predict\` calls made by the page during the clicks: ${predictCalls}.`,
      '',
      ...decodeTable,
    ].join('\n');
    await writeAndExit('label-loop-decode', result, md);
  }

  // float16 vs float32 embedding: the same prompts decoded in the page from each
  const dtype = (await page.evaluate(`(async () => {
    const { PageDecoder } = await import('/decoder.js');
    const [d16, d32] = [new PageDecoder({ dtype: 'float16' }), new PageDecoder({ dtype: 'float32' })];
    await d16.load('bench');
    await d32.load('bench');
    const [e16, e32] = [await d16.embedding(${JSON.stringify(id)}), await d32.embedding(${JSON.stringify(id)})];
    const plane = (rle) => {
      const [h, w] = rle.size;
      const m = new Uint8Array(h * w);
      let i = 0;
      rle.counts.forEach((n, k) => { if (k % 2) m.fill(1, i, i + n); i += n; });
      return m;
    };
    let worstIou = 1, flips = 0, masks = 0;
    for (const p of ${JSON.stringify(set)}) {
      const [a, b] = [await d16.decode(${JSON.stringify(id)}, p.points, p.box, 0), await d32.decode(${JSON.stringify(id)}, p.points, p.box, 0)];
      a.masks.forEach((m, k) => {
        const [x, y] = [plane(m), plane(b.masks[k])];
        let inter = 0, union = 0;
        for (let j = 0; j < x.length; j++) { inter += x[j] & y[j]; union += x[j] | y[j]; flips += x[j] ^ y[j]; }
        worstIou = Math.min(worstIou, union ? inter / union : 1);
        masks++;
      });
    }
    return { float16Bytes: e16.wireBytes, float32Bytes: e32.wireBytes, masks, worstIou, flips, decoderBytes: d16.bytes };
  })()`)) as {
    float16Bytes: number;
    float32Bytes: number;
    masks: number;
    worstIou: number;
    flips: number;
    decoderBytes: number;
  };

  // the loop under training: 20 accepted masks, Fine-tune pressed on the page `runs` times
  const { json: duringFinetune, md: trainingLines } = await training();

  const result = {
    bench: 'label-loop',
    machine,
    loadAverageEnd1m: machineInfo().loadAverage1m,
    model: srv.worker.info.model,
    checkpoint: srv.worker.info.checkpoint.sha256,
    image: 'dog.jpg 800x534',
    clicks,
    browser: {
      engine: `onnxruntime-web 1.30.0, wasm, threads: ${decodeRows.threads}, headless Chromium`,
      decoderLoadMs: Math.round(decoderLoadMs),
      decoderBytes: dtype.decoderBytes,
      ...decodeRows,
      predictCallsDuringClicks: predictCalls,
    },
    server: { predictMs: stats(serverMs) },
    agreement,
    profile,
    embeddingTransfer: {
      float16Bytes: dtype.float16Bytes,
      float32Bytes: dtype.float32Bytes,
      masksCompared: dtype.masks,
      worstIouFloat16VsFloat32: +dtype.worstIou.toFixed(5),
      pixelsDiffering: dtype.flips,
    },
    duringFinetune,
    goals: {
      browserDecodeP50Ms: 50,
      met: median(browserMs) <= 50,
      clickP99DuringTrainingAtMost2xIdle: duringFinetune.goal.clickP99DuringTrainingAtMost2xIdle,
    },
  };
  const b = result.browser.page.decodeMs;
  const e = result.embeddingTransfer;
  const md = [
    '# bench:label-loop',
    '',
    `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; load average ${machine.loadAverage1m} at the start, ${result.loadAverageEnd1m} at the end (other work shares the machine: compare the rows of this run, not absolute times). ${result.model}, ${result.image}, ${clicks} prompts (3 points per box).`,
    '',
    ...decodeTable.slice(0, decodeTable.indexOf('') + 1),
    `- Goal browser p50 <= 50 ms: ${result.goals.met ? 'met' : 'not met'} (${b.p50} ms). \`/api/predict\` calls made by the page during the clicks: ${predictCalls}.`,
    `- Page start to decoder ready (onnxruntime-web + ${(dtype.decoderBytes / 1e6).toFixed(1)} MB decoder): ${result.browser.decoderLoadMs} ms.`,
    `- Embedding on the wire: float16 ${(e.float16Bytes / 2 ** 20).toFixed(1)} MiB vs float32 ${(e.float32Bytes / 2 ** 20).toFixed(1)} MiB; over ${e.masksCompared} masks the worst IoU float16 vs float32 is ${e.worstIouFloat16VsFloat32} (${e.pixelsDiffering} pixels differ in all).`,
    ...decodeTable.slice(decodeTable.indexOf('') + 1),
    '',
    ...trainingLines,
  ].join('\n');
  writeResult(join(repo, 'bench/results/label-loop.json'), JSON.stringify(result, null, 2));
  writeResult(join(repo, 'bench/results/label-loop.md'), md);
  console.log(md);
} finally {
  await cleanUp();
}
