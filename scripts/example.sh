#!/usr/bin/env bash
# Set up a fresh machine and run the Top Artists example pipeline end to end.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Node.js: installing nbflow from source builds its JupyterLab extension with jlpm
if ! command -v node >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then as_root=(); else as_root=(sudo); fi
  "${as_root[@]}" apt-get update
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs
fi

python -m pip install --quiet -e '.[pandas]'

nbflow run --module examples.top_artists Top10Artists --date-interval 2024-06 --workers 2

echo "== data/top_artists_2024-06.tsv"
head data/top_artists_2024-06.tsv
