/**
 * `samtune [--verbose] [--plugin <module>]... <command> [flags]`: global flags, `--version`, help,
 * "did you mean" for unknown commands, command groups (`samtune data`) listing their subcommands,
 * dataset plugins (`--plugin`, `samtune.config.mjs` in the working directory) loaded before the
 * command runs, and errors: a usage error is one line and a pointer to `--help`; any error's exit code
 * is `EXIT_CODE_BY_KIND` of its kind (`@samtune/errors`: 2 for input and not-found, 1 otherwise), so
 * the same mistake exits the same in every command; the message drops the internal function
 * signature (`loadDataset(root): `) and the class name unless `--verbose`.
 * Only the flag tables load before a command runs: `--help` and typos start no model code.
 */
import { readFileSync } from 'node:fs';
import { errorKind, EXIT_CODE_BY_KIND } from '@samtune/errors';
import { closest } from './flags.js';
import { UsageError, type CliCommand, type CliIO } from './command.js';
import { COMMANDS } from './commands/index.js';

/** The version of the installed @samtune/cli package (its package.json, beside src/ and dist/). */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

function rows(commands: readonly CliCommand[]): string[] {
  return commands.map((c) => `  ${c.path.join(' ').padEnd(16)} ${c.summary}`);
}

/** The top-level help. */
export function help(commands: readonly CliCommand[] = COMMANDS): string {
  return [
    'usage: samtune [--verbose] [--plugin <module>]... <command> [flags]   (samtune <command> --help for its flags)',
    '',
    'commands:',
    ...rows(commands),
    '',
    'global flags:',
    '  --version          print the version of @samtune/cli',
    '  --verbose          more detail (why each tfjs backend was skipped; errors with their class and function)',
    '  --plugin <module>  load a dataset plugin (file or package) that registers adapters; repeatable.',
    '                     samtune.config.mjs in the working directory is loaded the same way',
  ].join('\n');
}

/** Global flags taken out of `argv` (anywhere), and the rest. */
export function splitGlobalFlags(argv: readonly string[]): { verbose: boolean; plugins: string[]; rest: string[] } {
  let verbose = false;
  const plugins: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--verbose') verbose = true;
    else if (a.startsWith('--plugin=')) plugins.push(a.slice('--plugin='.length));
    else if (a === '--plugin') {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--'))
        throw new UsageError('--plugin needs a module (a file path or a package name)');
      plugins.push(v);
    } else rest.push(a);
  }
  return { verbose, plugins, rest };
}

/** The command whose words start `argv` (the longest match). */
export function findCommand(
  argv: readonly string[],
  commands: readonly CliCommand[] = COMMANDS,
): CliCommand | undefined {
  return commands.filter((c) => c.path.every((w, i) => argv[i] === w)).sort((a, b) => b.path.length - a.path.length)[0];
}

/** Why `argv` names no command: a group's subcommand list, or "unknown command" with a suggestion. */
function noCommand(argv: readonly string[], commands: readonly CliCommand[], io: CliIO): number {
  const group = commands.filter((c) => c.path.length > 1 && c.path[0] === argv[0]);
  const words = argv.filter((a) => !a.startsWith('-'));
  if (group.length > 0 && words.length === 1) {
    io.out([`usage: samtune ${argv[0]} <subcommand> [flags]`, '', 'subcommands:', ...rows(group)].join('\n'));
    return argv.length === 1 ? 0 : 2;
  }
  const typed = words.slice(0, group.length > 0 ? 2 : 1).join(' ');
  const names = commands.map((c) => c.path.join(' '));
  const hint =
    closest(typed, names) ??
    closest(
      words[0] ?? '',
      names.map((n) => n.split(' ')[0] as string),
    );
  io.err(
    `samtune: unknown command '${typed}'${hint ? ` (did you mean 'samtune ${hint}'?)` : ''}; 'samtune --help' lists the commands`,
  );
  return EXIT_CODE_BY_KIND.input;
}

/**
 * What a CLI user reads of an error: without `--verbose`, no class name and no internal `fn(args): `
 * prefixes (a file path among the arguments stays).
 */
export function userMessage(err: unknown, verbose: boolean): string {
  const e = err instanceof Error ? err : new Error(String(err));
  if (verbose) return `${e.name}: ${e.message}`;
  // `fn(args): ` goes; a file or value among the arguments stays (`loadSamCheckpoint(runs/x/best.safetensors): `)
  return e.message.replace(/(?<=^|: )[A-Za-z_][\w.]*\(([^()]*)\): /g, (_, args: string) =>
    /[/\\.]/.test(args) ? `${args}: ` : '',
  );
}

/** Runs the CLI on `argv` (without `node` and the script); resolves to the exit code. */
export async function runCli(
  argv: readonly string[],
  io: CliIO,
  commands: readonly CliCommand[] = COMMANDS,
): Promise<number> {
  let globals;
  try {
    globals = splitGlobalFlags(argv);
  } catch (err) {
    io.err(`samtune: ${(err as Error).message}; see 'samtune --help'`);
    return EXIT_CODE_BY_KIND.input;
  }
  const { rest } = globals;
  if (rest[0] === '--version' || rest[0] === '-V') {
    io.out(cliVersion());
    return 0;
  }
  const cmd = findCommand(rest, commands);
  if (!cmd) {
    if (rest.length === 0 || rest[0] === '--help' || rest[0] === '-h' || rest[0] === 'help') {
      io.out(help(commands));
      return 0;
    }
    return noCommand(rest, commands, io);
  }
  const args = rest.slice(cmd.path.length);
  if (args.includes('--help') || args.includes('-h')) {
    io.out(cmd.usage);
    return 0;
  }
  const name = `samtune ${cmd.path.join(' ')}`;
  const verbose = globals.verbose || (io.verbose ?? false);
  try {
    cmd.check?.(args);
    const { findConfigFile, loadDatasetPlugins, resolvePluginSpecifier } = await import('@samtune/datasets');
    const config = findConfigFile();
    const specs = [...(config ? [config] : []), ...globals.plugins];
    const plugins = specs.map((s) => resolvePluginSpecifier(s));
    const added = await loadDatasetPlugins(plugins);
    if (added.length > 0) io.err(`plugins: dataset adapter${added.length === 1 ? '' : 's'} ${added.join(', ')}`);
    return await cmd.run(args, { ...io, verbose, plugins });
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${name}: ${userMessage(err, false)}; see '${name} --help'`);
      return EXIT_CODE_BY_KIND.input;
    }
    io.err(`${name}: ${userMessage(err, verbose)}`);
    if (process.env.SAMTUNE_DEBUG) io.err((err as Error).stack ?? '');
    return EXIT_CODE_BY_KIND[errorKind(err)];
  }
}
