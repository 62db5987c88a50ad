/* global document, setTimeout, clearTimeout, AbortController -- browser globals */
// The page's fine-tune and versions panel (issue 21's API): the Fine-tune button (POST
// /api/finetune), live progress (epoch, loss, ETA) from GET /api/finetune/events with GET
// /api/finetune/status polled when the stream is not there, Cancel (the serving version stays), and
// the versions (GET /api/versions): which one serves and its numbers, candidates and rejected ones
// with the gate's reason, activate, roll back, export. `onActive(id)` is called whenever the active
// version changes, so the page loads that version's decoder before its next click.
import { api, readEvents } from './api.js';

const $ = (id) => document.getElementById(id);
const POLL_MS = 1000;
const el = (tag, props = {}, ...children) => {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
};
const num = (v, digits = 3) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–');

/** "F1 0.912 · NoC@90 3.20 · IoU@1 0.81" for a version's metrics (or '' when it has none). */
export function metricsText(m) {
  if (!m) return '';
  return `F1 ${num(m.f1)} · NoC@85 ${num(m.noc85, 2)} · NoC@90 ${num(m.noc90, 2)} · IoU@1 ${num(m.iouAt1)} · IoU@5 ${num(m.iouAt5)}`;
}

/** "epoch 2/5 · loss 0.1234 · ETA 12 s" for a progress event or a status reply. */
export function progressText(p) {
  const parts = [p.version ? `${p.version}: ${p.phase ?? 'training'}` : (p.phase ?? 'training')];
  if (typeof p.epoch === 'number') parts.push(`epoch ${p.epoch}/${p.epochs ?? '?'}`);
  if (typeof p.loss === 'number') parts.push(`loss ${num(p.loss, 4)}`);
  if (typeof p.etaSeconds === 'number') parts.push(`ETA ${Math.max(0, Math.round(p.etaSeconds))} s`);
  return parts.join(' · ');
}

export class TrainPanel {
  /**
   * @param onActive called with the active version's id whenever it changes (and once at start)
   * @param report shows an error in the page's status line
   */
  constructor({ onActive, report }) {
    this.onActive = onActive;
    this.report = report;
    this.active = null;
    this.versions = [];
    this.running = false;
    this.stream = null; // AbortController of the event stream
    this.pollTimer = null;
    /** What tests read: progress events and done events seen, in order. */
    this.seen = { progress: [], done: [] };
    $('finetune').onclick = () => this.start().catch(report);
    $('cancel-train').onclick = () => this.cancel().catch(report);
    $('rollback').onclick = () => this.act(api('/api/versions/rollback', {})).catch(report);
  }

  /** Reads the versions and whether a run is going on; follows a run already going on. */
  async init() {
    await this.refresh();
    const s = await api('/api/finetune/status').catch(() => null);
    if (s?.running) this.follow(s);
  }

  /** Reads GET /api/versions and renders it; tells the page when the active version changed. */
  async refresh() {
    const r = await api('/api/versions');
    const changed = r.active !== this.active;
    this.versions = r.versions;
    this.active = r.active;
    this.render();
    if (changed) await this.onActive(r.active);
  }

  async start() {
    const epochs = Number($('finetune-epochs').value);
    const lr = Number($('finetune-lr').value);
    const body = {
      ...(Number.isInteger(epochs) && epochs > 0 ? { epochs } : {}),
      ...($('finetune-lr').value && Number.isFinite(lr) && lr > 0 ? { lr } : {}),
    };
    $('finetune').disabled = true;
    try {
      const r = await api('/api/finetune', body);
      this.follow({ running: true, version: r.version, phase: r.state });
    } catch (e) {
      $('finetune').disabled = false;
      throw e;
    }
  }

  async cancel() {
    const r = await api('/api/finetune/cancel', {});
    this.trainStatus(r.cancelled ? 'cancelling… (the serving version stays)' : 'no run to cancel');
  }

  /** Shows a run's progress until it ends: from the event stream, or by polling when there is none. */
  follow(s) {
    this.running = true;
    this.progress(s);
    this.stream?.abort();
    const ctl = new AbortController();
    this.stream = ctl;
    readEvents(
      '/api/finetune/events',
      (name, data) => {
        if (name === 'progress') this.progress(data);
        else if (name === 'done') this.finished(data);
      },
      ctl.signal,
    )
      .catch(() => undefined)
      .finally(() => {
        if (this.stream !== ctl) return;
        this.stream = null;
        if (this.running) this.poll(); // the stream ended early: poll every second
      });
    this.poll(); // also polled, slowly, in case the stream stays silent
  }

  poll() {
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(
      async () => {
        if (!this.running) return;
        try {
          const s = await api('/api/finetune/status');
          if (!this.running) return;
          if (s.running) this.progress(s);
          else if (s.last) return this.finished(s.last);
          else return this.finished(null);
        } catch {
          // the server is busy or restarting: try again
        }
        this.poll();
      },
      POLL_MS * (this.stream ? 3 : 1),
    );
  }

  progress(p) {
    this.seen.progress.push(p);
    $('finetune').disabled = true;
    $('cancel-train').hidden = false;
    const bar = $('train-progress');
    bar.hidden = false;
    if (typeof p.epoch === 'number' && p.epochs) {
      bar.max = p.epochs;
      bar.value = p.epoch;
    } else bar.removeAttribute('value');
    this.trainStatus(progressText(p));
  }

  /** A run ended (`v`: its VersionInfo, or null when unknown): says how, and reads the versions again. */
  finished(v) {
    if (!this.running) return;
    this.running = false;
    this.stream?.abort();
    this.stream = null;
    clearTimeout(this.pollTimer);
    if (v) this.seen.done.push(v);
    $('finetune').disabled = false;
    $('cancel-train').hidden = true;
    $('train-progress').hidden = true;
    const what = !v
      ? 'the run ended'
      : v.state === 'active'
        ? `${v.id} passed the gate and serves now`
        : v.state === 'rejected'
          ? `${v.id} ${/^rejected\b/.test(v.reason ?? '') ? v.reason : `rejected: ${v.reason ?? 'worse than the serving version'}`}`
          : `${v.id} ${v.state}${v.reason ? `: ${v.reason}` : ''}`;
    this.trainStatus(what, v?.state === 'failed');
    this.refresh().catch(this.report);
  }

  trainStatus(text, isErr = false) {
    $('train-status').textContent = text;
    $('train-status').className = isErr ? 'err' : 'muted';
  }

  /** Awaits an activate / roll back / export call, says what it did, and reads the versions again. */
  async act(call) {
    const r = await call;
    this.trainStatus(r.path ? `exported to ${r.path}` : `${r.active} serves now`);
    await this.refresh();
  }

  render() {
    const active = this.versions.find((v) => v.id === this.active);
    $('serving').textContent = active ? `serving ${active.id}` : this.active ? `serving ${this.active}` : '';
    $('serving-metrics').textContent = active?.metrics ? metricsText(active.metrics) : '';
    $('rollback').disabled = !active?.parent && this.versions.length < 2;
    const items = [...this.versions].reverse().map((v) => {
      const li = el('li', { className: `version ${v.state}` });
      li.dataset.id = v.id;
      li.dataset.state = v.state;
      const head = el(
        'div',
        { className: 'row' },
        el('strong', { textContent: v.id }),
        el('span', { className: `badge ${v.state}`, textContent: v.id === this.active ? 'serving' : v.state }),
      );
      if (v.id !== this.active && (v.state === 'candidate' || v.state === 'rejected' || v.state === 'active')) {
        const b = el('button', { textContent: 'Activate', title: `serve ${v.id}` });
        b.onclick = () => this.act(api(`/api/versions/${encodeURIComponent(v.id)}/activate`, {})).catch(this.report);
        head.append(b);
      }
      if (v.decoderSha256 || v.id === 'v0') {
        const b = el('button', { textContent: 'Export', title: `export ${v.id} as the chosen format` });
        b.onclick = () =>
          this.act(
            api(`/api/versions/${encodeURIComponent(v.id)}/export`, { format: $('model-export-format').value }),
          ).catch(this.report);
        head.append(b);
      }
      li.append(head);
      if (v.metrics) li.append(el('div', { className: 'muted', textContent: metricsText(v.metrics) }));
      if (v.baseline)
        li.append(el('div', { className: 'muted', textContent: `serving then: ${metricsText(v.baseline)}` }));
      const bad = v.state === 'rejected' || v.state === 'failed';
      if (v.reason) li.append(el('div', { className: bad ? 'reason' : 'muted', textContent: v.reason }));
      return li;
    });
    $('versions').replaceChildren(...items);
  }
}
