#!/usr/bin/env bash
# Redraws docs/race-v3.11.png, the README's picture of the 2013 race: explore
# finds the 3.11 use-after-free, --shrink cuts its schedule to the fewest
# preemptions, trace html draws the shrunk run, and headless chromium takes
# the picture. Everything but the picture is written to a scratch directory
# of its own (removed at the end); no file of yours is touched.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
./gemulator explore scenarios/export_vs_gem_close.gem --profile v3.11 --strategy pos --schedules 200 --jobs 1 --shrink \
	--out "$work" >"$work/explore.txt" || [ $? = 3 ]
trace=export_vs_gem_close.use-after-free.drm_gem_prime_handle_to_fd.min.trace
(cd "$work" && "$ROOT/gemulator" trace html --focus "$trace" >race.html)
chromium --headless --no-sandbox --disable-gpu --disable-background-networking --hide-scrollbars --no-first-run \
	--user-data-dir="$work/profile" --window-size=1880,640 --screenshot="$ROOT/docs/race-v3.11.png" "file://$work/race.html" \
	2>/dev/null
echo "docs/race-v3.11.png redrawn from the shrunk trace of the 3.11 use-after-free"
