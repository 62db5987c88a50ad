/**
 * The CLI's command contract. Each command lives in `commands/<name>.ts`: a flag table (`flags.ts`,
 * one TypeBox object that gives the parsed type, defaults, help and validation) and a `run` that
 * imports its package when it runs (so that `samtune --help` and typos load no model code), calls
 * one package function and formats its output (`render.ts` for what commands share). Commands do
 * not import each other. No model logic here.
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';
export interface CliIO {
  /** Results (JSON, tables): stdout. */
  out(line: string): void;
  /** Progress and diagnostics: stderr. */
  err(line: string): void;
  /** `--verbose`: details such as why each tfjs backend was skipped. */
  readonly verbose?: boolean;
  /** Dataset plugins loaded for this command (file URLs), for work in other threads (`train`'s worker). */
  readonly plugins?: readonly string[];
}

export interface CliCommand {
  /** Words that select the command, e.g. `['embed']` or `['data', 'inspect']`. */
  readonly path: readonly string[];
  readonly summary: string;
  /** Full usage text shown by `--help`. */
  readonly usage: string;
  /** Runs with the arguments after the command words; resolves to the exit code. */
  run(argv: string[], io: CliIO): Promise<number>;
  /** Parses the flags only (throws `UsageError`), before plugins and packages load. */
  check?(argv: readonly string[]): void;
}

/**
 * A user error (bad flag, missing file): printed as one line with a pointer to `--help`, exit code
 * `EXIT_CODE_BY_KIND.input` (2).
 */
export class UsageError extends SamtuneError {
  readonly code: string = 'usage';
  readonly kind: ErrorKind = 'input';
}
