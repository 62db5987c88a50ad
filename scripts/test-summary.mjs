// Sums the vitest JSON reports of every package (written by each package's `test` script, and by
// its `test:slow` script where it has one: every `test` / `test:*` script's `--outputFile.json`) and
// prints one closing line, "Tests: N passed, N failed, N skipped", for people and CI.
// Exits non-zero when any test failed or a package lacks a report.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(group)) {
    const pkg = join(group, name, 'package.json');
    if (!existsSync(pkg)) continue;
    const scripts = JSON.parse(readFileSync(pkg, 'utf8')).scripts ?? {};
    const reports = Object.entries(scripts)
      .filter(([script]) => /^test(:|$)/.test(script))
      .map(([, command]) => /--outputFile\.json=(\S+)/.exec(command)?.[1])
      .filter((file) => file !== undefined);
    for (const report of reports) {
      const file = join(group, name, report);
      if (!existsSync(file)) {
        missing.push(file);
        continue;
      }
      const r = JSON.parse(readFileSync(file, 'utf8'));
      passed += r.numPassedTests;
      failed += r.numFailedTests;
      skipped += r.numPendingTests + r.numTodoTests;
      if (!r.success && r.numFailedTests === 0) failed += 1; // suite-level failure (import error, …)
    }
  }
}
if (missing.length) console.log(`test-summary: no vitest report at ${missing.join(', ')}`);
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 || missing.length > 0 ? 1 : 0;
