/**
 * The page's fine-tune and versions panel in real Chromium, its fine-tune API answered by a contract
 * double (Playwright routes, issue 21's API contract: POST /api/finetune, the event stream, status,
 * cancel, versions, activate, roll back, export) so that every state the server can reach is shown:
 * live progress from server-sent events, the polling fallback when the stream fails, a rejected
 * candidate with its reason, activate and roll back (the page loads the active version's decoder
 * before the next click), export, cancel. Everything else is the real server. The real loop, with
 * the real training server, is `finetune-browser.test.ts`.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type SamServer } from './server.js';
import { launchChromium, newPage } from './test-utils/browser.js';
import { referencePath } from './test-utils/fixtures.js';

const TOKEN = 'finetune-panel-token-0123456789';
let dir: string;
let srv: SamServer;
let browser: Browser;
let page: Page;

const metrics = (f1: number) => ({ f1, noc85: 3.5, noc90: 5.25, iouAt1: 0.7, iouAt3: 0.8, iouAt5: 0.85, prompts: 8 });
/** The double's state: versions, the active one, the run going on, what the page called. */
const server = {
  active: 'v0',
  previous: [] as string[],
  versions: [{ id: 'v0', state: 'active', createdAt: '2026-01-01T00:00:00Z', parent: null, metrics: metrics(0.5) }] as {
    id: string;
    state: string;
    createdAt?: string;
    parent: string | null;
    reason?: string;
    metrics?: ReturnType<typeof metrics>;
    baseline?: ReturnType<typeof metrics>;
    decoderSha256?: string;
  }[],
  running: null as null | { version: string; polls: number; outcome: { state?: string } & Record<string, unknown> },
  streamFails: false,
  calls: [] as string[],
};

function activate(id: string): void {
  server.previous.push(server.active);
  for (const v of server.versions) if (v.state === 'active') v.state = 'candidate';
  server.versions.find((v) => v.id === id)!.state = 'active';
  server.active = id;
}

/** Finishes the run going on as `outcome` ('active' or 'rejected'). */
function finish(): Record<string, unknown> {
  const run = server.running!;
  server.running = null;
  const v = { state: 'candidate', ...run.outcome, id: run.version, parent: server.active };
  server.versions.push(v);
  if (v.state === 'active') activate(run.version);
  return v;
}

async function routeApi(p: Page): Promise<void> {
  await p.route('**/api/health', async (route: Route) => {
    const res = await route.fetch();
    await route.fulfill({ response: res, json: { ...(await res.json()), activeVersion: server.active } });
  });
  // The real server's decoder bytes, labelled as the double's active version: otherwise the page sees
  // a version mismatch (a swap between health and decoder fetch) and the test would race that reload.
  await p.route(/\/api\/decoder(-split|\.onnx)$/, async (route: Route) => {
    const res = await route.fetch();
    await route.fulfill({ response: res, headers: { ...res.headers(), 'x-samtune-version': server.active } });
  });
  await p.route('**/api/versions', (route: Route) =>
    route.fulfill({ json: { active: server.active, versions: server.versions } }),
  );
  await p.route('**/api/versions/rollback', (route: Route) => {
    server.calls.push('rollback');
    activate(server.previous.pop()!);
    return route.fulfill({ json: { active: server.active } });
  });
  await p.route('**/api/versions/*/*', (route: Route) => {
    const [, id, what] = /\/api\/versions\/([^/]+)\/([^/?]+)$/.exec(route.request().url())!;
    server.calls.push(`${id}/${what} ${route.request().postData() ?? ''}`);
    if (what === 'activate') return route.fulfill({ json: { active: (activate(id!), server.active) } });
    return route.fulfill({ json: { path: `exports/${id}/${JSON.parse(route.request().postData()!).format}` } });
  });
  await p.route('**/api/finetune', (route: Route) => {
    server.calls.push(`finetune ${route.request().postData()}`);
    const version = `v${server.versions.length}`;
    server.running = { version, polls: 0, outcome: server.running?.outcome ?? {} };
    return route.fulfill({ status: 202, json: { version, state: 'training' } });
  });
  await p.route('**/api/finetune/cancel', (route: Route) => {
    server.calls.push('cancel');
    return route.fulfill({ json: { cancelled: true } });
  });
  await p.route('**/api/finetune/status', (route: Route) => {
    const run = server.running;
    if (!run) return route.fulfill({ json: { running: false } });
    if (++run.polls < 2)
      return route.fulfill({
        json: {
          running: true,
          version: run.version,
          phase: 'training',
          epoch: 1,
          epochs: 3,
          loss: 0.25,
          etaSeconds: 7,
        },
      });
    return route.fulfill({ json: { running: false, last: finish() } });
  });
  await p.route('**/api/finetune/events', (route: Route) => {
    if (server.streamFails) return route.abort();
    const run = server.running!;
    const ev = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
    const progress = (epoch: number) => ({
      version: run.version,
      phase: 'training',
      epoch,
      epochs: 2,
      loss: 0.5 / epoch,
      etaSeconds: 4,
    });
    return route.fulfill({
      headers: { 'content-type': 'text/event-stream' },
      body: `: heartbeat\n\n${ev('progress', progress(1))}${ev('progress', progress(2))}${ev('done', finish())}`,
    });
  });
}

const text = (id: string): Promise<string> => page.$eval(`#${id}`, (e) => e.textContent ?? '');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'samtune-finetune-panel-'));
  copyFileSync(referencePath('dog.jpg'), join(dir, 'dog.jpg'));
  srv = await startServer({
    model: { checkpoint: referencePath('tinyvit.pth') },
    imagesDir: dir,
    port: 0,
    token: TOKEN,
  });
  browser = await launchChromium();
  page = await newPage(browser);
  await routeApi(page);
  await page.goto(`${srv.url}/#token=${TOKEN}`);
  await page.waitForFunction("window.samtunePage.mode === 'browser'", undefined, { timeout: 120_000 });
});

afterAll(async () => {
  await browser?.close();
  await srv?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('fine-tune and versions panel (contract double)', () => {
  it('shows the serving version and its numbers', async () => {
    await page.waitForFunction("document.getElementById('serving').textContent === 'serving v0'");
    expect(await text('serving-metrics')).toBe('F1 0.500 · NoC@85 3.50 · NoC@90 5.25 · IoU@1 0.700 · IoU@5 0.850');
    expect(
      await page.$$eval('#versions li', (els) =>
        els.map((e) => (e as unknown as { dataset: { state: string } }).dataset.state),
      ),
    ).toEqual(['active']);
    expect(await text('model')).toContain('· v0 ·');
  });

  it('streams the progress, and shows a rejected candidate with its reason; activating it loads its decoder', async () => {
    server.running = {
      version: '',
      polls: 0,
      outcome: {
        state: 'rejected',
        reason: 'F1 0.410 < 0.500 of v0 on 8 held-out prompts',
        metrics: metrics(0.41),
        baseline: metrics(0.5),
        decoderSha256: 'a'.repeat(64),
      },
    };
    await page.fill('#finetune-epochs', '2');
    await page.click('#finetune');
    await page.waitForFunction('window.samtunePage.training.done.length === 1');
    const progress = await page.evaluate('window.samtunePage.training.progress.map((p) => p.epoch ?? null)');
    expect(progress).toEqual([null, 1, 2]); // the 202 reply, then the two progress events
    expect(server.calls[0]).toBe('finetune {"epochs":2}');
    expect(await text('train-status')).toBe('v1 rejected: F1 0.410 < 0.500 of v0 on 8 held-out prompts');
    await page.waitForSelector('#versions li[data-id="v1"] .reason');
    expect(await text('serving')).toBe('serving v0');
    expect(await page.isVisible('#cancel-train')).toBe(false);
    expect(await page.isDisabled('#finetune')).toBe(false);

    const loads = (await page.evaluate('window.samtunePage.decoderLoads')) as number;
    await page.click('#versions li[data-id="v1"] button:text("Activate")');
    await page.waitForFunction("window.samtunePage.version === 'v1'");
    await page.waitForFunction(`window.samtunePage.decoderLoads === ${loads + 1}`);
    expect(await text('serving')).toBe('serving v1');
    expect(await text('train-status')).toBe('v1 serves now');
  });

  it('polls the status when the event stream fails, and shows a version that passed the gate', async () => {
    server.streamFails = true;
    server.running = {
      version: '',
      polls: 0,
      outcome: { state: 'active', metrics: metrics(0.6), baseline: metrics(0.41), decoderSha256: 'b'.repeat(64) },
    };
    await page.fill('#finetune-epochs', '');
    await page.click('#finetune');
    await page.waitForFunction("document.getElementById('train-status').textContent.includes('epoch 1/3')");
    expect(await text('train-status')).toBe('v2: training · epoch 1/3 · loss 0.2500 · ETA 7 s');
    expect(server.calls.at(-1)).toBe('finetune {}');
    await page.waitForFunction('window.samtunePage.training.done.length === 2');
    expect(await text('train-status')).toBe('v2 passed the gate and serves now');
    await page.waitForFunction("window.samtunePage.version === 'v2'");
    expect(await text('serving-metrics')).toMatch(/^F1 0\.600 /);
  });

  it('rolls back, exports a version and cancels a run', async () => {
    await page.click('#rollback');
    await page.waitForFunction("window.samtunePage.version === 'v1'");
    await page.selectOption('#model-export-format', 'transformers.js');
    await page.click('#versions li[data-id="v2"] button:text("Export")');
    await page.waitForFunction(
      "document.getElementById('train-status').textContent === 'exported to exports/v2/transformers.js'",
    );
    expect(server.calls.at(-1)).toBe('v2/export {"format":"transformers.js"}');

    server.streamFails = false;
    await page.route('**/api/finetune/events', (route: Route) =>
      route.fulfill({ headers: { 'content-type': 'text/event-stream' }, body: ': heartbeat\n\n' }),
    );
    server.running = { version: '', polls: -1000, outcome: {} }; // never ends by itself
    await page.click('#finetune');
    await page.waitForSelector('#cancel-train', { state: 'visible' });
    await page.click('#cancel-train');
    await page.waitForFunction("document.getElementById('train-status').textContent.startsWith('cancelling')");
    expect(server.calls.at(-1)).toBe('cancel');
    server.running!.polls = 5;
    server.running!.outcome = { state: 'cancelled' };
    await page.waitForFunction('window.samtunePage.training.done.length === 3');
    expect(await text('train-status')).toBe('v3 cancelled');
    expect(await text('serving')).toBe('serving v1');
  });
});
