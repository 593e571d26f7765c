#!/usr/bin/env bash
# Sets up everything the tests need on a fresh Debian machine (as root), builds, and runs
# every test. Ends with one line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  iproute2                   # ip netns, ss: real-kernel tests
  procps                     # sysctl inside test namespaces
  nftables                   # nft: the masquerade rules of the SNAT tests, read by the snat collector
  conntrack                  # conntrack -L: the SNAT tests' oracle for the table
  prometheus                 # prometheus, promtool
  prometheus-alertmanager    # alertmanager, amtool
  prometheus-node-exporter   # peer in the benchmarks
  docker-compose             # validates deploy/compose
  systemd                    # systemd-analyze verify
  hyperfine                  # times commands in the bench (test/bench runs it)
  perl                       # the bench's socket holders
  nginx-light                # a floor of the bench's scrape latency (bench/daemon/footprint-bench.ts)
  php-fpm                    # nginx -> php-fpm: who closes first (test/doctor/fastcgi-close-model.test.ts)
  openssl                    # throwaway certificates for the TLS tests
  curl                       # a real TLS client for the web config tests
  chromium                   # the landing page in a headless browser (playwright-core drives it)
  fonts-liberation           # text in that browser's screenshot
  podman                     # npm run image builds and runs the image (no Docker engine)
  runc                       # podman's runtime where crun fails (hybrid cgroup hosts)
  mmdebstrap                 # the Debian of the image's stand-in base (no image registry)
)

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing Debian packages: ${missing[*]} (run as root, or install them first)" >&2
    exit 1
  fi
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" || exit 1
fi

npm ci --no-audit --no-fund || exit 1
npm run build || exit 1

report=$(mktemp)
trap 'rm -f "$report"' EXIT
npx vitest run --reporter=default --reporter=json --outputFile.json="$report"
status=$?

node -e '
  const fs = require("node:fs");
  let r = {};
  try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch {}
  const files = r.testResults ?? [];
  // A test file that fails to load has no failed test in it, but it is a failure.
  const brokenFiles = files.filter((f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed")).length;
  const failed = (r.numFailedTests ?? 0) + brokenFiles;
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`${r.numPassedTests ?? 0} passed, ${failed} failed, ${skipped} skipped`);
  if (process.env.CI === "true" && skipped > 0) {
    console.error("CI=true: a skipped test is a failure here");
    process.exit(1);
  }
  if (!r.numTotalTests || failed > 0) process.exit(1);
' "$report" || exit 1
exit "$status"
