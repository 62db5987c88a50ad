#!/usr/bin/env bash
# The system programs the tests need, installed in ONE place: `pnpm test` runs this first (its
# `pretest` step), and `.ci/run` gets it through `pnpm test`.
#   redis-server  @samtune/jobs' and the CLI's queue tests start a throw-away one on 127.0.0.1
#   chromium      apps/server's browser test drives it through playwright-core (no browser download)
# Both are Debian packages. Missing ones are installed when we are root and apt-get exists
# (`apt-get update` only when the first install fails); otherwise the exact command is printed and
# the tests that need the program fail with the same command in their message.
set -uo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
chromium_found=
for p in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome; do
  if [[ -n "$p" && -x "$p" ]]; then chromium_found=1 && break; fi
done
[[ -n "$chromium_found" ]] || missing+=(chromium)
((${#missing[@]} == 0)) && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "provision-test-deps: ${missing[*]} missing; the tests that need them will fail. Install with:" >&2
  echo "  sudo apt-get update && sudo $cmd" >&2
  exit 0
fi

echo "provision-test-deps: installing ${missing[*]} (Debian) for the tests: $cmd"
start=$SECONDS
export DEBIAN_FRONTEND=noninteractive
if ! $cmd >/dev/null 2>&1; then
  apt-get update >/dev/null 2>&1
  if ! $cmd >/dev/null; then
    echo "provision-test-deps: '$cmd' failed; the tests that need ${missing[*]} will fail" >&2
    exit 0
  fi
fi
echo "provision-test-deps: installed ${missing[*]} in $((SECONDS - start)) s"
