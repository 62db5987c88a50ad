/**
 * Model versions of a labelling server: `v0` is the checkpoint the server was started with; each
 * fine-tune run makes the next one (`v1`, `v2`, …), whose run folder is `<data>/runs/<id>/` (the
 * trainer's files: config.yaml, results.csv, report.md, best.safetensors = the decoder-only
 * checkpoint with its base reference; plus `labels.json`, the training data, and `version.json`, this
 * version's record with the gate's numbers and reason).
 *
 * The state of record is `<data>/versions.json`, written atomically after every change: which version
 * is active, the activation history (for rollback) and every version's record. It is read as hostile
 * input: checked against `VersionsFileSchema`, a bad version entry is reported and skipped, and no
 * path is ever taken from it (a version's folder is derived from its id, `^v[0-9]+$`, and contained in
 * the data folder). A version left `training` by a killed server is marked `failed` on the next start,
 * in the file and in its run folder (`status.json`).
 */
import { lstat, mkdir, open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from 'typebox';
import { schemaProblems } from '@samtune/errors';
import { writeFileAtomicAsync } from '@samtune/tensor-files';
import { ServerConfigError } from '../errors.js';
import { UnknownVersionError, VersionNotServableError } from './errors.js';

/** File of record, in the data folder. */
export const VERSIONS_FILE = 'versions.json';
/** Largest versions file read (checked before reading). */
const MAX_VERSIONS_FILE_BYTES = 16 * 2 ** 20;
const FORMAT = 'samtune-versions/1';

const num = Type.Union([Type.Number(), Type.Null()]);
/** Held-out numbers of a version (null: not measured, e.g. NaN without instances). */
export const VersionMetricsSchema = Type.Object({
  f1: num,
  noc85: num,
  noc90: num,
  iouAt1: num,
  iouAt3: num,
  iouAt5: num,
  /** Held-out instances (prompts) measured. */
  prompts: Type.Integer({ minimum: 0 }),
});
export type VersionMetrics = Static<typeof VersionMetricsSchema>;

/** The held-out set a version was gated on: the seeded split of the accepted labels, or the `--val` file. */
export const HeldOutSchema = Type.Object({
  source: Type.Union([Type.Literal('split'), Type.Literal('val')]),
  /** The `--val` labels file (absolute), for `val`. */
  labels: Type.Optional(Type.String({ maxLength: 4096 })),
  images: Type.Integer({ minimum: 0 }),
  instances: Type.Integer({ minimum: 0 }),
});
export type HeldOut = Static<typeof HeldOutSchema>;

const VersionId = Type.String({ pattern: '^v(0|[1-9][0-9]{0,5})$', expected: 'v0, v1, …' });
const StoredState = Type.Union(
  [
    Type.Literal('candidate'),
    Type.Literal('rejected'),
    Type.Literal('failed'),
    Type.Literal('cancelled'),
    Type.Literal('training'),
  ],
  { expected: 'candidate, rejected, failed, cancelled or training' },
);

/** One version as stored (its served state comes from `active`). */
const StoredVersionSchema = Type.Object({
  id: VersionId,
  state: StoredState,
  createdAt: Type.String({ maxLength: 64 }),
  parent: Type.Union([VersionId, Type.Null()]),
  decoderSha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
  metrics: Type.Optional(VersionMetricsSchema),
  baseline: Type.Optional(VersionMetricsSchema),
  heldOut: Type.Optional(HeldOutSchema),
  reason: Type.Optional(Type.String({ maxLength: 4000 })),
});
type StoredVersion = Static<typeof StoredVersionSchema>;
type StoredState = StoredVersion['state'];

const VersionsFileSchema = Type.Object({
  format: Type.Literal(FORMAT),
  /** SHA-256 of the base checkpoint (v0); another base means another data folder. */
  base: Type.String({ maxLength: 200 }),
  active: VersionId,
  /** Previously active versions, oldest first (rollback pops the last). */
  history: Type.Array(VersionId, { maxItems: 100_000 }),
  /** Accepted instances in the labels file when the last run started (`--auto-train`). */
  instancesAtLastRun: Type.Integer({ minimum: 0 }),
  versions: Type.Array(Type.Unknown(), { maxItems: 100_000 }),
});
type VersionsFile = Static<typeof VersionsFileSchema>;

/** A version as the API lists it (`GET /api/versions`). */
export type VersionInfo = Omit<StoredVersion, 'state'> & {
  readonly state: StoredState | 'active';
  /** Run folder relative to the data folder (absent for v0). */
  readonly runDir?: string;
};

/** The versions of one data folder (see the module comment). */
export class VersionStore {
  private constructor(
    /** Absolute data folder. */
    readonly dir: string,
    private state: Omit<VersionsFile, 'versions'> & { versions: StoredVersion[] },
  ) {}

  /**
   * Opens (or creates) the versions of `dir` for base checkpoint `baseSha256`; marks versions left
   * `training` as failed.
   * @param report receives one line per bad entry skipped or interrupted run marked
   * @throws ServerConfigError for an unreadable file, a file of another base checkpoint, or an active
   *   version that is not in it
   */
  static async open(
    dir: string,
    baseSha256: string,
    report: (line: string) => void = () => undefined,
  ): Promise<VersionStore> {
    await mkdir(join(dir, 'runs'), { recursive: true });
    await checkFolder(join(dir, 'runs'));
    const file = join(dir, VERSIONS_FILE);
    const raw = await readStateFile(file);
    const fresh = {
      format: FORMAT,
      base: baseSha256,
      active: 'v0',
      history: [],
      instancesAtLastRun: 0,
      versions: [{ id: 'v0', state: 'candidate', createdAt: new Date().toISOString(), parent: null } as StoredVersion],
    } as const;
    if (raw === undefined) {
      const store = new VersionStore(dir, { ...fresh, history: [], versions: [...fresh.versions] });
      await store.save();
      return store;
    }
    const problems = schemaProblems(VersionsFileSchema, raw);
    if (problems.length > 0)
      throw new ServerConfigError(
        `VersionStore.open(): ${file}: ${problems
          .slice(0, 3)
          .map((p) => `${p.path || '/'}: expected ${p.expected ?? p.message}`)
          .join('; ')} (fix or remove it, or use another --data-dir)`,
      );
    const doc = raw as VersionsFile;
    if (doc.base !== baseSha256)
      throw new ServerConfigError(
        `VersionStore.open(): ${file} holds versions of base checkpoint sha256 ${doc.base.slice(0, 12)}, got the server started with ${baseSha256.slice(0, 12)}; use another --data-dir for another checkpoint`,
      );
    const versions: StoredVersion[] = [];
    doc.versions.forEach((v, i) => {
      const bad = schemaProblems(StoredVersionSchema, v);
      const id = (v as { id?: unknown }).id;
      if (bad.length === 0 && versions.some((w) => w.id === id))
        bad.push({ path: 'id', message: 'a unique id', value: id });
      if (bad.length > 0) {
        const p = bad[0] as (typeof bad)[0];
        report(`${file}: versions[${i}]${p.path ? `.${p.path}` : ''} skipped: expected ${p.expected ?? p.message}`);
      } else versions.push(v as StoredVersion);
    });
    if (!versions.some((v) => v.id === 'v0')) versions.unshift({ ...fresh.versions[0] });
    if (!versions.some((v) => v.id === doc.active))
      throw new ServerConfigError(
        `VersionStore.open(): ${file}: active version '${doc.active}' is not among its readable versions (${versions.map((v) => v.id).join(', ')})`,
      );
    const known = new Set(versions.map((v) => v.id));
    const store = new VersionStore(dir, { ...doc, history: doc.history.filter((h) => known.has(h)), versions });
    for (const v of versions.filter((x) => x.state === 'training')) {
      v.state = 'failed';
      v.reason = 'the server stopped while this version was training';
      await store.writeStatus(v);
      report(`${v.id}: marked failed (the server stopped during its fine-tune)`);
    }
    await store.save();
    return store;
  }

  get active(): string {
    return this.state.active;
  }

  get instancesAtLastRun(): number {
    return this.state.instancesAtLastRun;
  }

  /** Every version, oldest first. */
  list(): VersionInfo[] {
    return this.state.versions.map((v) => this.info(v));
  }

  /** @throws UnknownVersionError */
  get(id: string): VersionInfo {
    return this.info(this.stored(id));
  }

  /**
   * Run folder of `id` (absolute): `<data>/runs/<id>`, the id checked against `^v[0-9]+$`; neither
   * `runs` nor the run folder may be a symlink (`checkFolder`), so writes stay in the data folder.
   */
  runDir(id: string): string {
    return join(this.dir, 'runs', this.stored(id).id);
  }

  /** The decoder-only checkpoint of `id` (`best.safetensors` in its run folder); undefined for v0. */
  checkpoint(id: string): string | undefined {
    return id === 'v0' ? undefined : join(this.runDir(id), 'best.safetensors');
  }

  /** A new version trained from the active one, state `training`. */
  async create(instances: number): Promise<VersionInfo> {
    const next = 1 + Math.max(0, ...this.state.versions.map((v) => Number(v.id.slice(1))));
    const v: StoredVersion = {
      id: `v${next}`,
      state: 'training',
      createdAt: new Date().toISOString(),
      parent: this.state.active,
    };
    this.state.versions.push(v);
    this.state.instancesAtLastRun = instances;
    await mkdir(this.runDir(v.id), { recursive: true });
    await checkFolder(this.runDir(v.id));
    await this.save();
    return this.info(v);
  }

  /** Records the outcome of a run (state, numbers, reason); written to the file and the run folder. */
  async finish(id: string, patch: Partial<Omit<StoredVersion, 'id' | 'parent' | 'createdAt'>>): Promise<VersionInfo> {
    const v = this.stored(id);
    Object.assign(v, patch);
    await this.writeStatus(v);
    await this.save();
    return this.info(v);
  }

  /**
   * Checks that `id` can be served and returns its checkpoint (undefined for v0).
   * @throws UnknownVersionError, VersionNotServableError (failed, cancelled, training, no decoder)
   */
  servable(id: string): string | undefined {
    const v = this.stored(id);
    if (v.id === 'v0') return undefined;
    if (v.state === 'failed' || v.state === 'cancelled' || v.state === 'training' || !v.decoderSha256)
      throw new VersionNotServableError(
        `activate(${id}): expected a version with a decoder (candidate or rejected), got state '${v.state}'${v.decoderSha256 ? '' : ' without a decoder'}`,
      );
    return this.checkpoint(id);
  }

  /** Makes `id` the active version (the caller has swapped the decoder). */
  async activate(id: string): Promise<void> {
    const v = this.stored(id);
    if (v.id === this.state.active) return;
    const was = this.stored(this.state.active);
    this.state.history.push(was.id);
    this.state.active = v.id;
    await this.save();
    await Promise.all([this.writeStatus(was), this.writeStatus(v)]);
  }

  /** The version a rollback returns to. @throws VersionNotServableError when there is none */
  previous(): string {
    const prev = this.state.history.at(-1);
    if (prev === undefined)
      throw new VersionNotServableError(
        `rollback(): expected a previously active version, got none (active ${this.state.active} is the first)`,
      );
    return prev;
  }

  /** Makes the previous version active again (the caller has swapped the decoder). */
  async rollback(): Promise<void> {
    const was = this.stored(this.state.active);
    this.state.active = this.previous();
    this.state.history.pop();
    await this.save();
    await Promise.all([this.writeStatus(was), this.writeStatus(this.stored(this.state.active))]);
  }

  private stored(id: string): StoredVersion {
    const v = this.state.versions.find((x) => x.id === id);
    if (!v)
      throw new UnknownVersionError(
        `version: expected one of ${this.state.versions.map((x) => x.id).join(', ')}, got ${JSON.stringify(id.slice(0, 40))}`,
      );
    return v;
  }

  private info(v: StoredVersion): VersionInfo {
    return {
      ...v,
      state: v.id === this.state.active ? 'active' : v.state,
      ...(v.id === 'v0' ? {} : { runDir: `runs/${v.id}` }),
    };
  }

  /** `status.json` in the run folder: the version's record as the server last wrote it. */
  private async writeStatus(v: StoredVersion): Promise<void> {
    if (v.id === 'v0') return;
    const dir = this.runDir(v.id);
    await mkdir(dir, { recursive: true });
    await checkFolder(dir);
    await writeFileAtomicAsync(join(dir, 'status.json'), `${JSON.stringify(this.info(v), null, 2)}\n`);
  }

  private save(): Promise<void> {
    return writeFileAtomicAsync(join(this.dir, VERSIONS_FILE), `${JSON.stringify(this.state, null, 2)}\n`);
  }
}

/** `dir` is a real folder, not a symlink to elsewhere. @throws ServerConfigError */
async function checkFolder(dir: string): Promise<void> {
  const st = await lstat(dir);
  if (!st.isDirectory())
    throw new ServerConfigError(
      `VersionStore: expected ${dir} to be a folder inside the data folder, got ${st.isSymbolicLink() ? 'a symlink' : 'another kind of file'}`,
    );
}

/** The parsed versions file, or undefined when there is none. @throws ServerConfigError */
async function readStateFile(file: string): Promise<unknown> {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new ServerConfigError(
      `VersionStore.open(): cannot read ${file}: ${code === 'ELOOP' ? 'it is a symlink, which is not followed' : (err as Error).message}`,
    );
  }
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.size > MAX_VERSIONS_FILE_BYTES)
      throw new ServerConfigError(
        `VersionStore.open(): expected ${file} to be a regular file of at most ${MAX_VERSIONS_FILE_BYTES} bytes, got ${st.isFile() ? `${st.size} bytes` : 'another kind of file'}`,
      );
    const text = await handle.readFile('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new ServerConfigError(`VersionStore.open(): ${file} is not JSON (${(err as Error).message})`);
    }
  } finally {
    await handle.close();
  }
}
