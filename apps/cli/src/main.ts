#!/usr/bin/env node
/** `samtune <command> [flags]`: dispatches to `commands/`. */
import { UsageError, type CliIO } from './command.js';
import { COMMANDS } from './commands/index.js';

const io: CliIO = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

function help(): string {
  const rows = COMMANDS.map((c) => `  ${c.path.join(' ').padEnd(16)} ${c.summary}`);
  return ['usage: samtune <command> [flags]   (samtune <command> --help for its flags)', '', 'commands:', ...rows].join(
    '\n',
  );
}

export async function main(argv: string[]): Promise<number> {
  const cmd = COMMANDS.filter((c) => c.path.every((w, i) => argv[i] === w)).sort(
    (a, b) => b.path.length - a.path.length,
  )[0];
  if (!cmd) {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      io.out(help());
      return 0;
    }
    io.err(`samtune: unknown command '${argv.join(' ')}'\n\n${help()}`);
    return 2;
  }
  const rest = argv.slice(cmd.path.length);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(cmd.usage);
    return 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`samtune ${cmd.path.join(' ')}: ${err.message}\n\n${cmd.usage}`);
      return 2;
    }
    const e = err instanceof Error ? err : new Error(String(err));
    io.err(`samtune ${cmd.path.join(' ')}: ${e.name}: ${e.message}`);
    if (process.env.SAMTUNE_DEBUG) io.err(e.stack ?? '');
    return 1;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
