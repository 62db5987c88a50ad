#!/usr/bin/env node
// Checks that ARCHITECTURE.md's package map is the one nx reports: for every nx project, the samtune
// packages it depends on in production (nx's project graph, minus edges that come only from
// devDependencies, i.e. test helpers). Run by `pnpm lint`; exits 1 with the differences.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'samtune-arch-'));
const file = join(dir, 'graph.json');
execFileSync('npx', ['nx', 'graph', `--file=${file}`], {
  cwd: root,
  stdio: 'ignore',
  env: { ...process.env, NX_DAEMON: 'false' },
});
const { graph } = JSON.parse(readFileSync(file, 'utf8'));
rmSync(dir, { recursive: true, force: true });

const short = (name) => name.replace(/^@samtune\//, '');
const actual = new Map();
for (const [name, node] of Object.entries(graph.nodes)) {
  if (node.data.root.startsWith('tools/')) continue; // private test tools (fixtures, README examples)
  const pkg = JSON.parse(readFileSync(join(root, node.data.root, 'package.json'), 'utf8'));
  const prod = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
  const deps = (graph.dependencies[name] ?? [])
    .map((d) => d.target)
    .filter((t) => prod.has(t) && !graph.nodes[t]?.data.root.startsWith('tools/'));
  actual.set(short(name), [...new Set(deps.map(short))].sort());
}

const md = readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8');
const block = md.slice(md.indexOf('<!-- package-map:start'), md.indexOf('<!-- package-map:end'));
const documented = new Map();
for (const line of block.split('\n')) {
  const m = /^\|\s*`([a-z-]+)`(?: \(app\))?\s*\|\s*(.*?)\s*\|$/.exec(line);
  if (!m) continue;
  const deps = m[2] === '—' ? [] : m[2].split(',').map((s) => s.trim());
  documented.set(m[1], deps.sort());
}

const problems = [];
for (const [name, deps] of actual) {
  const doc = documented.get(name);
  if (!doc) problems.push(`ARCHITECTURE.md has no row for '${name}' (nx: ${deps.join(', ') || '—'})`);
  else if (doc.join(',') !== deps.join(','))
    problems.push(`'${name}': ARCHITECTURE.md says ${doc.join(', ') || '—'}; nx reports ${deps.join(', ') || '—'}`);
}
for (const name of documented.keys())
  if (!actual.has(name)) problems.push(`ARCHITECTURE.md lists '${name}', which is not an nx project`);
if (problems.length > 0) {
  console.error(`check-architecture: the package map in ARCHITECTURE.md is out of date:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`check-architecture: ARCHITECTURE.md's package map matches nx (${actual.size} projects)`);
