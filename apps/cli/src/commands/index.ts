/** Every CLI command, in the order `samtune --help` lists them. */
import type { CliCommand } from '../command.js';
import { embedCommand } from './embed.js';
import { predictCommand } from './predict.js';

export const COMMANDS: readonly CliCommand[] = [embedCommand, predictCommand];
