/**
 * `samtune train`'s arguments: the flags are the training config's keys (`TrainConfigSchema`: its short
 * flags, and any key dotted), resolved as defaults ← `--config` YAML ← flags.
 */
import { Type, type TSchema } from 'typebox';
import {
  applyOverride,
  configKeys,
  defaultTrainConfig,
  mergeConfig,
  placeholderOf,
  TrainConfigError,
  validateTrainConfig,
} from '@samtune/trainer/config';
import { UsageError } from '../command.js';
import { Flag, parseFlagTable } from '../flags.js';
import type { TrainArgs } from '../training.js';
import { readConfigFile } from './train-config-file.js';

/** Config keys with a short flag (`--lr` for `optimizer.lr`). */
const SHORT = configKeys().filter((k) => k.schema.flag !== undefined);
/** `train`'s flag table: the short config flags and the run flags. */
export const TRAIN_FLAGS = Type.Object({
  ...Object.fromEntries(
    SHORT.map(({ key, schema: s }): [string, TSchema] => {
      const description = `${key}: ${s.description}`;
      if (s.flag?.startsWith('no-')) return [s.flag, Flag.bool(`${key}=false: not ${s.description}`)];
      if ((s as { type?: string }).type === 'boolean') return [s.flag!, Flag.bool(description)];
      return [s.flag!, Type.Optional(Type.String({ description, placeholder: placeholderOf(s) }))];
    }),
  ),
  config: Type.Optional(Flag.text('config file (YAML, the keys below)', { placeholder: '<file.yaml>' })),
  resume: Flag.bool(
    "continue the run in --out after its last finished epoch (the stored config, but this command's --plugin list: a run folder never names code)",
  ),
  'exist-ok': Flag.bool(
    'write into a non-empty --out that is not a samtune run folder (no .samtune-run marker); without it such a folder is refused, untouched',
  ),
  'no-worker': Flag.bool('train on the main thread'),
  json: Flag.bool('print the result as one JSON object on stdout (metrics, files)'),
});

/** Parsed `train` arguments. */
export type ParsedTrainArgs = TrainArgs & { readonly json: boolean };

/** Parses `train` flags: defaults ← `--config` YAML ← flags (short flags, then dotted keys, in order). */
export function parseTrainArgs(argv: readonly string[]): ParsedTrainArgs {
  const { flags: f, dotted } = parseFlagTable(argv, TRAIN_FLAGS, true);
  const v = f as Record<string, string | boolean | undefined>;
  const config = defaultTrainConfig();
  try {
    if (f.config !== undefined) mergeConfig(config, readConfigFile(f.config));
    for (const { key, schema } of SHORT) {
      const value = v[schema.flag!];
      if (typeof value === 'string') applyOverride(config, key, value);
      else if (value === true) applyOverride(config, key, !schema.flag!.startsWith('no-'));
    }
    for (const [key, value] of dotted) applyOverride(config, key, value);
    if (!f.resume || config.out === '') validateTrainConfig(config);
  } catch (e) {
    if (e instanceof TrainConfigError) throw new UsageError(e.message);
    throw e;
  }
  if (config.out === '') throw new UsageError('--out is required');
  return { config, resume: f.resume, existOk: f['exist-ok'], worker: !f['no-worker'], json: f.json };
}
