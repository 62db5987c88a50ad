// Sums the vitest JSON reports of every package (written by each package's `test` script) and
// prints one closing line, "Tests: N passed, N failed, N skipped", for people and CI.
// Exits non-zero when any test failed or a package has no report.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(group)) {
    const file = join(group, name, 'test-results', 'vitest.json');
    if (!existsSync(join(group, name, 'package.json'))) continue;
    if (!existsSync(file)) {
      missing.push(`${group}/${name}`);
      continue;
    }
    const r = JSON.parse(readFileSync(file, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + r.numTodoTests;
    if (!r.success && r.numFailedTests === 0) failed += 1; // suite-level failure (import error, …)
  }
}
if (missing.length) console.log(`test-summary: no vitest report for ${missing.join(', ')}`);
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 || missing.length > 0 ? 1 : 0;
