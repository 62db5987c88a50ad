/** The gradient rule registry: op type -> rule. The built-in rules are registered on first use. */
import type { GradientRule } from './rule.js';
import { BUILTIN_RULES } from './gradients/all.js';
import { GradientGraphError } from './errors.js';

const rules = new Map<string, GradientRule>();
let loaded = false;

function ensure(): void {
  if (loaded) return;
  loaded = true;
  for (const r of BUILTIN_RULES) for (const op of r.opTypes) rules.set(op, r);
}

/**
 * Registers (or, with `replace`, overrides) the rule for each of its op types. Throws
 * `GradientGraphError` if an op type already has a rule and `replace` is false.
 */
export function registerGradient(rule: GradientRule, replace = false): void {
  ensure();
  for (const op of rule.opTypes) {
    if (rules.has(op) && !replace)
      throw new GradientGraphError(
        `registerGradient(rule): op '${op}' already has a rule; pass replace=true to override`,
      );
    rules.set(op, rule);
  }
}

/** The rule for an op type, or undefined. */
export function getGradientRule(opType: string): GradientRule | undefined {
  ensure();
  return rules.get(opType);
}

/** Every op type that has a rule, sorted. */
export function gradientRuleOps(): string[] {
  ensure();
  return [...rules.keys()].sort();
}
