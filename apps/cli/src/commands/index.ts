/** Every CLI command, in the order `samtune --help` lists them. */
import type { CliCommand } from '../command.js';
import { dataInspectCommand } from './data-inspect.js';
import { embedCommand } from './embed.js';
import { predictCommand } from './predict.js';
import { trainCommand } from './train.js';
import { evalCommand } from './eval.js';
import { demoCommand } from './demo.js';
import { autolabelCommand } from './autolabel.js';
import { optimizeCommand } from './optimize.js';
import { exportCommand } from './export.js';
import { queueAutolabelCommand, queueEmbedCommand } from './queue.js';
import { queueCollectCommand, queueStatusCommand } from './queue-status.js';
import { workerCommand } from './worker.js';
import { serveCommand } from './serve.js';

export const COMMANDS: readonly CliCommand[] = [
  embedCommand,
  predictCommand,
  dataInspectCommand,
  trainCommand,
  evalCommand,
  autolabelCommand,
  demoCommand,
  exportCommand,
  optimizeCommand,
  serveCommand,
  queueEmbedCommand,
  queueAutolabelCommand,
  queueStatusCommand,
  queueCollectCommand,
  workerCommand,
];
