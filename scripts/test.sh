#!/usr/bin/env bash
# Set up a fresh machine and run every check CI runs: lint, format, types, import
# contracts and the test suite with coverage. Exits nonzero on the first failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  else
    sudo "$@"
  fi
}

# graphviz's `dot` lays out the DAG widget; Debian's chromium runs the browser tests
# (test tools cannot download browsers here).
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# PostgreSQL: the scheduler server's tests run against a real one next to SQLite
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
# Node.js: `pip install -e .` builds the JupyterLab extension with jlpm
command -v node >/dev/null 2>&1 || missing+=(nodejs)
# kubectl: tests/deploy render the Kubernetes manifests with `kubectl kustomize`
# (Debian's kubernetes-client: kubectl 1.20, kustomize v2; the manifests suit both)
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

python -m pip install --quiet -e '.[test]'
# the kernel the notebook tests and papermill runs use
python -m ipykernel install --user --name python3 >/dev/null

echo "== ruff check"
ruff check .
echo "== ruff format --check"
ruff format --check .
echo "== mypy"
mypy
echo "== lint-imports"
lint-imports
echo "== PostgreSQL (a throw-away cluster on loopback, for the server's tests)"
pgdir=$(mktemp -d /tmp/nbflow-pg.XXXXXX)
chmod 755 "$pgdir"
stop_postgres() {
  bash scripts/postgres.sh stop "$pgdir/cluster" >/dev/null 2>&1 || true
  rm -rf "$pgdir"
}
trap stop_postgres EXIT
NBFLOW_TEST_POSTGRES_URL=$(bash scripts/postgres.sh start "$pgdir/cluster")
export NBFLOW_TEST_POSTGRES_URL

echo "== pytest"
status=0
python -m pytest --cov=nbflow --cov-report=term-missing:skip-covered --durations=25 || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: treating that as a failure" >&2
fi
exit "$status"
