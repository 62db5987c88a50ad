/**
 * bench:label-loop's "while a fine-tune runs" section: click latency in the page while the server
 * fine-tunes, against the same load just before, over `runs` fine-tunes in one server (each press
 * makes a new version; the gate may activate it, and the page's decoder then swaps to it; before
 * each run after the first, v0 is activated again on the page so that each candidate is gated
 * against the same serving version).
 * A click's latency is the page's `clickMs`: from the mouse event to its mask drawn, so a stalled
 * main thread counts, not only the decode. The training phase lasts from the press until the new
 * version serves in the page and `AFTER_SWAP` more clicks are done; clicks that overlap the page's
 * decoder swap (from the version change seen to the new decoder taking over, `samtunePage.swapLog`)
 * are reported apart as well as in the training total.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { makeBoxDomain } from '../apps/server/src/test-utils/box-domain.js';
import { machineInfo, median } from './machine.js';

const TRAIN_MASKS = 20;
const AFTER_SWAP = 10; // clicks decoded by the new version before a training phase ends
const ROUND_TIMEOUT_MS = 1_200_000;

/** What a click measured in the page (`window.samtunePage.decodes[n]`). */
export interface PageClick {
  ms: number;
  clickMs: number;
  startedAt: number;
  version: string | null;
}
type Stats = { n: number; p50: number; p99: number; max: number };
type Load = {
  click: PageClick[];
  predict: number[];
  health: number[];
  /** this process's event loop delay (the server's HTTP thread; training and the model are in workers), ms */
  eventLoopDelay: { p50: number; p99: number; max: number };
};
interface Done {
  id: string;
  state: string;
  reason?: string;
  metrics?: Record<string, number | null>;
  baseline?: Record<string, number | null>;
}
interface Swap {
  version: string;
  requestedAt: number;
  readyAt: number;
  warmMs: number;
  fetchMs: number;
  createMs: Record<string, number>;
}

export const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};
export const stats = (xs: readonly number[]): Stats => ({
  n: xs.length,
  p50: +median(xs).toFixed(1),
  p99: +pct(xs, 99).toFixed(1),
  max: xs.length ? +Math.max(...xs).toFixed(1) : NaN,
});

/** The part of playwright's Page the section uses. */
interface Page {
  evaluate(expr: string): Promise<unknown>;
  fill(selector: string, value: string): Promise<void>;
  click(selector: string): Promise<void>;
  waitForFunction(expr: string, arg: undefined, options: { timeout: number }): Promise<unknown>;
  waitForSelector(selector: string): Promise<unknown>;
}

export interface TrainingContext {
  page: Page;
  /** the images folder (the box domain is written into it) */
  dir: string;
  /** the open image's embedding id */
  id: string;
  /** prompts to click, in turn */
  set: readonly { points: number[][]; box: number[] | null }[];
  clickOnce: (p: { points: number[][]; box: number[] | null }) => Promise<unknown>;
  timed: (path: string, body?: unknown) => Promise<number>;
  runs: number;
  epochs: number;
  lr: number;
  /** clicks of each idle phase */
  idleClicks: number;
}

/** Runs the section; its JSON and markdown. */
export async function trainingSection(ctx: TrainingContext) {
  const { page, set, clickOnce, timed } = ctx;
  const evaluate = <T>(expr: string): Promise<T> => page.evaluate(expr) as Promise<T>;
  const decodes = (): Promise<number> => evaluate<number>('window.samtunePage.decodes.length');

  /**
   * The load of a labelling session: clicks in the page one after another and, from here,
   * `/api/predict` and `/api/health` in turn every 100 ms; at least `minClicks` clicks, then until
   * `until()` (checked between clicks) says stop.
   */
  const mixedLoad = async (minClicks: number, until: () => Promise<boolean>): Promise<Load> => {
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const out: Load = { click: [], predict: [], health: [], eventLoopDelay: { p50: NaN, p99: NaN, max: NaN } };
    let stop = false;
    const side = (async () => {
      for (let k = 0; !stop; k++) {
        if (k % 2) out.health.push(await timed('/api/health'));
        else out.predict.push(await timed('/api/predict', { id: ctx.id, ...set[(k >> 1) % set.length]! }));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      for (let k = 0; k < minClicks || !(await until()); k++) {
        const n = await decodes();
        await clickOnce(set[k % set.length]!);
        out.click.push(await evaluate<PageClick>(`window.samtunePage.decodes[${n}]`));
      }
    } finally {
      stop = true;
      await side;
      delay.disable();
    }
    const ms = (ns: number): number => +(ns / 1e6).toFixed(1);
    out.eventLoopDelay = { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) };
    return out;
  };

  // the page's main-thread tasks over 50 ms, to tell what a slow click waited for
  await evaluate(`window.benchLongTasks = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.benchLongTasks.push([e.startTime, e.duration]); })
      .observe({ type: 'longtask' })`);
  await makeBoxDomain(ctx.dir, { count: TRAIN_MASKS, perImage: 1, shape: 'box', size: [0.6, 0.95] });
  await page.fill('#finetune-epochs', String(ctx.epochs));
  await page.fill('#finetune-lr', String(ctx.lr));
  const rounds = [];
  for (let r = 0; r < ctx.runs; r++) {
    if (r > 0 && (await evaluate<string | null>('window.samtunePage.decoderVersion')) !== 'v0') {
      // back to v0 from the page's versions list, so that this run's candidate can pass the gate too
      await page.click('#versions li[data-id="v0"] button:text("Activate")');
      await page.waitForFunction("window.samtunePage.decoderVersion === 'v0'", undefined, { timeout: 120_000 });
    }
    const loadStart = machineInfo().loadAverage1m;
    const idle = await mixedLoad(ctx.idleClicks, async () => true);
    const swapsBefore = (await evaluate<Swap[]>('window.samtunePage.swapLog')).length;
    await page.waitForSelector('#finetune:not([disabled])');
    const pressAt = await evaluate<number>('performance.now()'); // the page's clock
    const tPress = performance.now();
    await page.click('#finetune');
    let done: Done | null = null;
    let doneMs = 0;
    let servingMs: number | null = null;
    let clicksAfter = 0;
    const training = await mixedLoad(0, async () => {
      if (performance.now() - tPress > ROUND_TIMEOUT_MS) return true;
      if (!done) {
        done = await evaluate<Done | null>(`window.samtunePage.training.done[${r}] ?? null`);
        if (done) doneMs = performance.now() - tPress;
      }
      if (!done) return false;
      if (done.state !== 'active') return true; // no swap: the serving version stays
      if (servingMs === null && (await evaluate<string | null>('window.samtunePage.decoderVersion')) === done.id)
        servingMs = performance.now() - tPress;
      return servingMs !== null && ++clicksAfter > AFTER_SWAP;
    });
    const d = done as Done | null;
    if (!d) throw new Error(`bench:label-loop: fine-tune ${r + 1} did not end within 20 minutes`);
    const swaps = (await evaluate<Swap[]>('window.samtunePage.swapLog')).slice(swapsBefore);
    const inSwap = (c: PageClick): boolean =>
      swaps.some((s) => c.startedAt < s.readyAt && c.startedAt + c.clickMs > s.requestedAt);
    const ms = (cs: PageClick[]): number[] => cs.map((c) => c.clickMs);
    const longTasks = await evaluate<[number, number][]>('window.benchLongTasks');
    const slowest = [...training.click]
      .sort((a, b) => b.clickMs - a.clickMs)
      .slice(0, 3)
      .map((c) => ({
        atS: +((c.startedAt - pressAt) / 1000).toFixed(1),
        clickMs: Math.round(c.clickMs),
        decodeMs: Math.round(c.ms),
        version: c.version,
        inSwap: inSwap(c),
        mainThreadLongTasksMs: Math.round(
          longTasks
            .filter(([t, d]) => t < c.startedAt + c.clickMs && t + d > c.startedAt)
            .reduce((a, [, d]) => a + d, 0),
        ),
      }));
    const ratio = +(pct(ms(training.click), 99) / pct(ms(idle.click), 99)).toFixed(2);
    rounds.push({
      loadAverage1m: { start: loadStart, end: machineInfo().loadAverage1m },
      idle: {
        click: stats(ms(idle.click)),
        predict: stats(idle.predict),
        health: stats(idle.health),
        eventLoopDelay: idle.eventLoopDelay,
      },
      training: {
        click: stats(ms(training.click)),
        clickNotInSwap: stats(ms(training.click.filter((c) => !inSwap(c)))),
        clickInSwap: stats(ms(training.click.filter(inSwap))),
        decodeMs: stats(training.click.map((c) => c.ms)),
        predict: stats(training.predict),
        health: stats(training.health),
        eventLoopDelay: training.eventLoopDelay,
      },
      clickP99TrainingOverIdle: ratio,
      met: ratio <= 2,
      /** the slowest clicks while training: seconds after the press, decode time (in the worker), main-thread long tasks during it */
      slowest,
      clicksByVersion: Object.fromEntries(
        [...new Set(training.click.map((c) => c.version))].map((v) => [
          v,
          training.click.filter((c) => c.version === v).length,
        ]),
      ),
      swaps: swaps.map((s) => ({
        version: s.version,
        ms: Math.round(s.readyAt - s.requestedAt),
        fetchMs: Math.round(s.fetchMs),
        createMs: Object.fromEntries(Object.entries(s.createMs).map(([k, v]) => [k, Math.round(v)])),
        warmMs: Math.round(s.warmMs),
      })),
      finetune: {
        version: d.id,
        state: d.state,
        reason: d.reason ?? null,
        metrics: d.metrics ?? null,
        baseline: d.baseline ?? null,
        pressToGateMs: Math.round(doneMs),
        pressToServingMs: servingMs === null ? null : Math.round(servingMs),
      },
    });
  }
  const met = rounds.filter((x) => x.met).length;
  const json = {
    trainingMasks: TRAIN_MASKS,
    epochs: ctx.epochs,
    lr: ctx.lr,
    runs: ctx.runs,
    load: `clicks in the page back to back (latency: mouse event to mask drawn); /api/predict and /api/health in turn every 100 ms; idle phase: ${ctx.idleClicks} clicks just before each press; training phase: from the press until the new version serves in the page and ${AFTER_SWAP} more clicks`,
    rounds,
    goal: { clickP99DuringTrainingAtMost2xIdle: `${met} of ${rounds.length} runs met` },
  };
  const row = (what: string, i: Stats, t: Stats): string =>
    `| ${what} | ${i.n} | ${i.p50} | ${i.p99} | ${t.n} | ${t.p50} | ${t.p99} | ${t.max} |`;
  const none: Stats = { n: 0, p50: NaN, p99: NaN, max: NaN };
  const md = [
    `## While a fine-tune runs (${TRAIN_MASKS} accepted masks, ${ctx.epochs} epochs, lr ${ctx.lr}; ${ctx.runs} fine-tunes in a row)`,
    '',
    `Load: ${json.load}. Click times are ms from the mouse event to the mask drawn; clicks during the swap overlap the page's decoder change (new version's decoder fetched, its sessions created in a new worker, the open image's embedding prepared, then taken over between clicks).`,
    '',
    `Goal click p99 while training <= 2x the idle p99: ${met} of ${rounds.length} runs met.`,
    '',
    ...rounds.flatMap((x, r) => [
      `### Run ${r + 1}: ${x.clickP99TrainingOverIdle}x (${x.met ? 'met' : 'not met'}); load average ${x.loadAverage1m.start} -> ${x.loadAverage1m.end}`,
      '',
      '| what | idle n | idle p50 | idle p99 | training n | training p50 | training p99 | training max |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      row('click in the page (all)', x.idle.click, x.training.click),
      row('of which not during the swap', x.idle.click, x.training.clickNotInSwap),
      row('of which during the swap', none, x.training.clickInSwap),
      row('`POST /api/predict`', x.idle.predict, x.training.predict),
      row('`GET /api/health`', x.idle.health, x.training.health),
      '',
      `- The server's HTTP thread (this process's event loop; training and the model run in workers): delay p99 ${x.idle.eventLoopDelay.p99} ms idle, ${x.training.eventLoopDelay.p99} ms training (max ${x.training.eventLoopDelay.max} ms).`,
      `- ${x.finetune.version} ${x.finetune.state}${x.finetune.reason ? ` (${x.finetune.reason})` : ''}; pressed -> gate decided ${(x.finetune.pressToGateMs / 1000).toFixed(1)} s; -> serving in the page ${x.finetune.pressToServingMs === null ? 'n/a' : `${(x.finetune.pressToServingMs / 1000).toFixed(1)} s`}. Clicks by version: ${JSON.stringify(x.clicksByVersion)}.`,
      `- Slowest clicks while training (s after the press: click ms = decode ms in the worker + the rest; main-thread long tasks during it): ${x.slowest.map((c) => `${c.atS} s: ${c.clickMs} = ${c.decodeMs} + ${c.clickMs - c.decodeMs}${c.inSwap ? ', in the swap' : ''}; long tasks ${c.mainThreadLongTasksMs} ms`).join('; ')}.`,
      ...x.swaps.map(
        (s) =>
          `- Swap to ${s.version}: ${s.ms} ms from the version change seen to the new decoder serving (fetch ${s.fetchMs} ms, sessions ${JSON.stringify(s.createMs)} ms, the open images prepared ${s.warmMs} ms), clicks answered by the old version meanwhile.`,
      ),
      '',
    ]),
  ];
  return { json, md };
}
