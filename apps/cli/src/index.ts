/** @samtune/cli: the `samtune` command line. Run `samtune --help`. */
export { COMMANDS } from './commands/index.js';
export { runCli, cliVersion, help } from './cli.js';
export { UsageError, type CliCommand, type CliIO } from './command.js';
export { createProgressBar, type ProgressBar } from './progress.js';
