/** Every CLI command, in the order `samtune --help` lists them. */
import type { CliCommand } from '../command.js';

export const COMMANDS: readonly CliCommand[] = [];
