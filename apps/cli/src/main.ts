#!/usr/bin/env node
/** The `samtune` binary: runs `cli.ts` on the process arguments. */
import type { CliIO } from './command.js';
import { runCli } from './cli.js';

const io: CliIO = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

process.exitCode = await runCli(process.argv.slice(2), io);
