/**
 * Progress lines with a total and an ETA for the long phases of `optimize` (calibration, each
 * evaluation): `decoder: calibrated 120/816 samples, 41 s elapsed, ETA 3 min 56 s`.
 */

/** `s` seconds as `42 s`, `3 min 56 s` or `1 h 02 min`. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/**
 * A counter that says, at most every `everyFraction` of the total (and at the end), what is done, the
 * time spent and the time left at the rate so far.
 */
export class EtaReporter {
  private readonly started: number;
  private lastShown = 0;

  /**
   * @param what the phase, e.g. `decoder: calibrated`
   * @param unit what is counted, e.g. `samples`
   * @param total the expected count (an upper bound is fine: `done` past it shows no ETA)
   * @param log where lines go
   */
  constructor(
    private readonly what: string,
    private readonly unit: string,
    private readonly total: number,
    private readonly log: (line: string) => void,
    private readonly everyFraction = 0.1,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
  }

  /** Reports `done` when a line is due (a step of `everyFraction`, or the total reached). */
  update(done: number): void {
    const step = Math.max(1, Math.ceil(this.total * this.everyFraction));
    if (done < this.total && done - this.lastShown < step) return;
    this.lastShown = done;
    this.log(this.line(done));
  }

  /** The line for `done` (see the module comment). */
  line(done: number): string {
    const elapsed = (this.now() - this.started) / 1000;
    const left = done > 0 && done < this.total ? (elapsed / done) * (this.total - done) : 0;
    const eta = done >= this.total ? 'done' : done > 0 ? `ETA ${formatSeconds(left)}` : 'ETA ?';
    return `${this.what} ${done}/${this.total} ${this.unit}, ${formatSeconds(elapsed)} elapsed, ${eta}`;
  }
}
