/** `train --config <file.yaml>`: the file's data, checked before it is merged into the config. */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../command.js';

/**
 * A `--config` file's data, refused when it names plugins: a config file (e.g. a copied run folder's
 * `config.yaml`) never names code to run; plugins come from `--plugin` only.
 */
export function readConfigFile(file: string): unknown {
  let data: unknown;
  try {
    data = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`--config ${file}: cannot read the file (${(e as Error).message})`);
  }
  const plugins = (data as { data?: { plugins?: unknown } } | null)?.data?.plugins;
  if (plugins !== undefined && !(Array.isArray(plugins) && plugins.length === 0))
    throw new UsageError(
      `--config ${file}: expected no data.plugins in a config file (a file never names code to run), got ${JSON.stringify(plugins)}; pass each module with --plugin <module> instead`,
    );
  return data;
}
