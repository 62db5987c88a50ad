#!/usr/bin/env bash
# Packs every public package, installs the tarballs with npm into a fresh project outside the repo
# (as a new user would), and checks that it works there:
#   - each tarball holds LICENSE, README.md, dist/index.js + .d.ts and src/ without tests
#     (the @samtune/source condition and the source maps resolve), the CLI also its demo photos;
#   - each package imports; a consumer file type-checks (moduleResolution nodenext, strict);
#   - `npx samtune --help`, `npx samtune --version`, `npx samtune demo --help`, and the demo itself
#     with a one-epoch schedule (seeded model, offline) unless SKIP_DEMO=1.
# Usage: bash scripts/pack-install-smoke.sh   (SKIP_BUILD=1 to reuse dist/, KEEP=1 to keep the temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export ONNXRUNTIME_NODE_INSTALL=skip

tmp=$(mktemp -d "${TMPDIR:-/tmp}/samtune-pack-smoke-XXXXXX")
cleanup() { if [[ "${KEEP:-0}" != 1 ]]; then rm -rf "$tmp"; else echo "pack-smoke: kept $tmp"; fi; }
trap cleanup EXIT
step() { echo; echo "pack-smoke: $*"; }
fail() { echo "pack-smoke: FAIL: $*" >&2; exit 1; }

# Public packages: packages/* and apps/* whose package.json is not private.
mapfile -t dirs < <(node -e '
  const fs = require("fs");
  for (const g of ["packages", "apps"])
    for (const d of fs.readdirSync(g).sort()) {
      const f = `${g}/${d}/package.json`;
      if (fs.existsSync(f) && !JSON.parse(fs.readFileSync(f, "utf8")).private) console.log(`${g}/${d}`);
    }')
names=()
for d in "${dirs[@]}"; do names+=("$(node -p "require('./$d/package.json').name")"); done
echo "pack-smoke: ${#dirs[@]} public packages: ${names[*]}"

node scripts/package-metadata.mjs --check
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  step "build"
  pnpm exec nx run-many -t build --output-style=static >/dev/null
fi

step "pack"
mkdir -p "$tmp/tarballs"
for d in "${dirs[@]}"; do
  (cd "$d" && pnpm pack --pack-destination "$tmp/tarballs" >/dev/null)
done
ls -l "$tmp/tarballs" | tail -n +2

step "tarball contents"
for t in "$tmp"/tarballs/*.tgz; do
  list=$(tar tzf "$t")
  for f in package/LICENSE package/package.json package/dist/index.js package/dist/index.d.ts package/src/index.ts; do
    grep -qx "$f" <<<"$list" || fail "$(basename "$t") has no ${f#package/}"
  done
  grep -qx package/README.md <<<"$list" || echo "  WARNING: $(basename "$t") has no README.md"
  if grep -Eq '\.test\.(ts|js)$|/test-utils/' <<<"$list"; then fail "$(basename "$t") ships tests or test-utils"; fi
  if tar xzOf "$t" package/package.json | grep '"workspace:' >/dev/null; then fail "$(basename "$t") still has workspace: ranges"; fi
  echo "  $(basename "$t"): $(wc -l <<<"$list") files, LICENSE/dist/src ok"
done
cli=$(ls "$tmp"/tarballs/samtune-cli-*.tgz)
cli_list=$(tar tzf "$cli") # (not piped into grep -q: pipefail would see tar's SIGPIPE)
grep -qx 'package/dist/examples/plant-mini/train/_annotations.coco.json' <<<"$cli_list" || fail "the CLI tarball has no demo photos"
echo "  $(basename "$cli"): $(grep -c '^package/dist/examples/plant-mini/.*\.jpg$' <<<"$cli_list") demo photos"

step "npm install into $tmp/app (outside the repo, ONNXRUNTIME_NODE_INSTALL=skip)"
mkdir -p "$tmp/app"
cd "$tmp/app"
cat >package.json <<'EOF'
{ "name": "samtune-consumer", "version": "1.0.0", "private": true, "type": "module" }
EOF
npm install --no-audit --no-fund --loglevel=error "$tmp"/tarballs/*.tgz typescript@~5.9.3 @types/node@^20.19.0
for opt in @tensorflow/tfjs-node @tensorflow/tfjs-node-gpu; do
  [[ ! -e node_modules/$opt ]] || fail "$opt was installed (it must be an optional peer dependency)"
done
echo "  installed; @tensorflow/tfjs-node(-gpu) not installed (optional peers)"

step "import each package"
for n in "${names[@]}"; do
  node --input-type=module -e "const m = await import('$n'); console.log('  $n:', Object.keys(m).length, 'exports');"
done

step "type-check a consumer file (nodenext, strict)"
{
  i=0
  for n in "${names[@]}"; do
    echo "import * as p$i from '$n';"
    i=$((i + 1))
  done
  echo "import { SamModel, initBackend } from '@samtune/sam-model';"
  echo "import { exportSamOnnx, exportTransformersJs } from '@samtune/export';"
  echo "import { SamtuneError } from '@samtune/errors';"
  echo "export const modules: readonly object[] = [$(seq -s, -f 'p%g' 0 $((i - 1)))];"
  echo "export async function use(path: string): Promise<number> {"
  echo "  await initBackend('cpu');"
  echo "  const model = await SamModel.load(path);"
  echo "  const r = await exportTransformersJs(model, 'out', { variant: 'single_mask' });"
  echo "  const e: unknown = exportSamOnnx;"
  echo "  if (!(new Error() instanceof SamtuneError) && e) return r.files.config.length;"
  echo "  return 0;"
  echo "}"
} >consumer.ts
cat >tsconfig.json <<'EOF'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "noUncheckedIndexedAccess": true,
    "noEmit": true,
    "skipLibCheck": false,
    "types": ["node"]
  },
  "files": ["consumer.ts"]
}
EOF
# skipLibCheck false: every installed .d.ts is checked. Third-party .d.ts have errors of their own
# under strict (tfjs: TS2411 in tfjs-layers, hash_util; ioredis: the untyped 'redis-errors' it
# imports): those are reported as a count; any error in consumer.ts or an @samtune/* .d.ts fails.
tsc_out=$(npx tsc -p tsconfig.json 2>&1) || true
ours=$(grep 'error TS' <<<"$tsc_out" | grep -v '^node_modules/' || true)
ours+=$(grep 'error TS' <<<"$tsc_out" | grep '^node_modules/@samtune/' || true)
if [[ -n "$ours" ]]; then
  echo "$ours" >&2
  fail "the consumer file or a samtune .d.ts does not type-check"
fi
echo "  consumer.ts and every @samtune/* .d.ts type-check ($(grep -c 'error TS' <<<"$tsc_out" || true) errors inside third-party .d.ts ignored)"

step "the samtune command"
npx samtune --help | head -3
version=$(npx samtune --version) || fail "samtune --version failed"
expected=$(node -p "require('./node_modules/@samtune/cli/package.json').version")
[[ "$version" == *"$expected"* ]] || fail "samtune --version printed '$version', expected $expected"
echo "  samtune --version: $version"
npx samtune demo --help | head -2
if [[ "${SKIP_DEMO:-0}" != 1 ]]; then
  step "samtune demo --offline --epochs 1 (seeded model: checks the pipeline, not the metrics)"
  SAMTUNE_CACHE="$tmp/cache" npx samtune demo --offline --epochs 1 --out "$tmp/app/runs/demo" --no-worker
  [[ -f "$tmp/app/runs/demo/report.md" ]] || fail "the demo wrote no report.md"
  echo "  demo ran from the install: $tmp/app/runs/demo/report.md"
fi

cd "$root"
echo
echo "pack-smoke: ok (${#names[@]} packages packed, installed, imported, type-checked; CLI ran)"
