#!/usr/bin/env bash
# make audit: Lighthouse (desktop preset) and the Nu HTML Checker on the home
# page, a public, indexable room of 200 messages and a thread of 40 replies
# in it, served by the release
# build. Fails when Lighthouse scores SEO < 100 or Accessibility, Best
# Practices or Performance < 95, or when the checker finds any HTML error.
# Needs the release build, Chromium and end2end's npm packages (make audit
# provides all three). Reports go to target/audit/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/release-server.sh

export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}
VNU_JAR=end2end/node_modules/vnu-jar/build/dist/vnu.jar
OUT=target/audit
for needed in "$CHROME_PATH" "$VNU_JAR" end2end/node_modules/lighthouse; do
  if [ ! -e "$needed" ]; then
    echo "$needed is missing: run scripts/install-tools.sh --browser." >&2
    exit 1
  fi
done

start_release_server lighthouse 200 40
PAGES=(/ "$ROOM_PATH" "$THREAD_PATH")
rm -rf "$OUT" && mkdir -p "$OUT"
status=0

echo "==> Lighthouse ${PAGES[*]}"
node end2end/audit.mjs "$BASE_URL" "$OUT" "${PAGES[@]}" || status=1

echo "==> Nu HTML Checker ${PAGES[*]}"
files=()
for page in "${PAGES[@]}"; do
  # The HTML as a first visit gets it, before any JavaScript runs.
  file="$OUT/$([ "$page" = / ] && echo home || echo "${page#/}" | tr / -).html"
  curl -fsS -o "$file" "$BASE_URL$page"
  files+=("$file")
done
# Errors go to standard error as "file":line.column: error: message.
if java -jar "$VNU_JAR" --errors-only "${files[@]}"; then
  echo "No HTML errors."
else
  echo "The Nu HTML Checker found errors (above)." >&2
  status=1
fi

[ "$status" = 0 ] && echo "Audit passed." || echo "Audit FAILED." >&2
exit "$status"
