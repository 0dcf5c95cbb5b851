#!/usr/bin/env bash
# Set up a fresh machine and run the Top Artists example pipeline end to end.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

python -m pip install --quiet -e '.[pandas]'

nbflow run --module examples.top_artists Top10Artists --date-interval 2024-06 --workers 2

echo "== data/top_artists_2024-06.tsv"
head data/top_artists_2024-06.tsv
