#!/usr/bin/env bash
# Sets up the local BigQuery emulator (local-bigquery) in .bqemu/: a Python 3.13 virtualenv from
# the hashed pins of requirements.txt, and the DuckDB extensions it needs where DuckDB looks for
# them (.bqemu/home/.duckdb/extensions; the emulator runs with HOME=.bqemu/home).
#
# uv cannot download Python here (no access beyond the package registries), so it needs a
# Python 3.13 on the machine: BQ_EMULATOR_PYTHON, python3.13 on PATH, or a pyenv 3.13.x.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-$(command -v uv || echo "python3 -m uv")}
DIR=.bqemu
if [ -x "$DIR/.venv/bin/local-bigquery" ] && [ -f "$DIR/home/.duckdb/extensions/v1.5.5/linux_amd64/icu.duckdb_extension" ] \
   && cmp -s bigquery-emulator/requirements.txt "$DIR/requirements.txt"; then
  exit 0
fi
python=${BQ_EMULATOR_PYTHON:-}
if [ -z "$python" ]; then
  for candidate in "$(command -v python3.13 || true)" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3.13; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
      python=$candidate
      break
    fi
  done
fi
if [ -z "$python" ]; then
  echo "bigquery-emulator: no Python 3.13 found (set BQ_EMULATOR_PYTHON=/path/to/python3.13)" >&2
  exit 1
fi
rm -rf "$DIR"
mkdir -p "$DIR/home/.duckdb/extensions/v1.5.5/linux_amd64"
$UV venv -q --python "$python" "$DIR/.venv"
$UV pip install -q --python "$DIR/.venv/bin/python" --require-hashes -r bigquery-emulator/requirements.txt
cp "$DIR"/.venv/lib/python3.13/site-packages/duckdb_extension_*/extensions/v1.5.5/*.duckdb_extension \
   "$DIR/home/.duckdb/extensions/v1.5.5/linux_amd64/"
cp bigquery-emulator/requirements.txt "$DIR/requirements.txt"
echo "bigquery-emulator: ready in $DIR (Python $("$DIR/.venv/bin/python" -V 2>&1 | cut -d' ' -f2))"
