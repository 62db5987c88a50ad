/** Errors of the reverse-mode autodiff (`buildGradientGraph`). */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** An op on the path from the wanted values to the loss has no gradient rule (names the op type and the node). */
export class NoGradientRuleError extends SamtuneError {
  readonly code: string = 'no-gradient-rule';
  readonly kind: ErrorKind = 'unsupported';
  constructor(
    readonly opType: string,
    readonly nodeName: string,
    detail = '',
  ) {
    super(
      `buildGradientGraph(): op '${opType}' (node '${nodeName}') is on the path from the wanted values to the loss but has no gradient rule${detail}; registered rules: see gradientRuleOps()`,
    );
  }
}

/** A gradient rule exists but this use of the op is outside what it supports (attribute, rank, dynamic input). */
export class UnsupportedGradientError extends SamtuneError {
  readonly code: string = 'unsupported-gradient';
  readonly kind: ErrorKind = 'unsupported';
}

/** Bad arguments to `buildGradientGraph` (unknown loss or value, non-scalar loss, unknown or dynamic shape). */
export class GradientGraphError extends SamtuneError {
  readonly code: string = 'gradient-graph';
  readonly kind: ErrorKind = 'input';
}
