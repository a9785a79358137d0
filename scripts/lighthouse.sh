#!/usr/bin/env bash
# Lighthouse (mobile defaults: simulated slow 4G and a 4x slower CPU) on the built site, served gzipped on
# loopback as a static host would serve it. Needs node/npx (Lighthouse 12 comes from the npm registry on
# first use) and Chromium. Not part of `make test`: the scores move with the machine's load.
#
#   scripts/lighthouse.sh [PAGE ...]
#
# PAGE is a path inside the site (default: the home page, a district page and a chapter with charts).
# SITE (default _build/html), PORT (default 8731), CHROME_PATH (default /usr/bin/chromium), OUT (default
# _build/lighthouse) and RUNS (default 3) may be set in the environment. Scores move from run to run, so
# each page is measured RUNS times; one line per page gives the median run (by performance score) and
# every run's score, with the load average the figures were taken under. Full reports are left in OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
SITE=${SITE:-_build/html}
PORT=${PORT:-8731}
OUT=${OUT:-_build/lighthouse}
RUNS=${RUNS:-3}
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}
PAGES=("$@")
[ ${#PAGES[@]} -gt 0 ] || PAGES=(chapters/index.html chapters/districts/preston.html chapters/workstreams/enhanced-care.html)
[ -f "$SITE/index.html" ] || { echo "$SITE: no built site (run lancs-evidence build first)" >&2; exit 2; }
mkdir -p "$OUT"

python3 scripts/serve-gzip.py "$SITE" --port "$PORT" >/dev/null &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
for page in "${PAGES[@]}"; do
  name=$(echo "$page" | tr '/' '_' | sed 's/\.html$//')
  reports=()
  for run in $(seq "$RUNS"); do
    npx --yes lighthouse@12 "http://127.0.0.1:$PORT/$page" --quiet \
      --chrome-path="$CHROME_PATH" --chrome-flags="--headless=new --no-sandbox" \
      --only-categories=performance,accessibility --output=json --output-path="$OUT/$name-$run.json"
    reports+=("$OUT/$name-$run.json")
  done
  python3 - "$page" "${reports[@]}" <<'EOF'
import json, sys
rows = []
for path in sys.argv[2:]:
    r = json.load(open(path))
    c, a = r["categories"], r["audits"]
    rows.append((round(c["performance"]["score"] * 100), round(c["accessibility"]["score"] * 100),
                 *(a[k]["displayValue"].replace("\xa0", " ") for k in
                   ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
                    "cumulative-layout-shift", "speed-index"))))
rows.sort(key=lambda row: row[0])
p, acc, fcp, lcp, tbt, cls, si = rows[len(rows) // 2]
print(f"{sys.argv[1]}: performance {p} (runs: {', '.join(str(r[0]) for r in rows)}), accessibility {acc}; "
      f"median run: FCP {fcp}, LCP {lcp}, TBT {tbt}, CLS {cls}, Speed Index {si}")
EOF
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); Lighthouse $(npx --yes lighthouse@12 --version), $("$CHROME_PATH" --version 2>/dev/null | head -1)"
