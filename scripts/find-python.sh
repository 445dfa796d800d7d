#!/usr/bin/env sh
# Print the path of a Python >= 3.12 (Mesa 3.5 needs it), or explain what to install and fail.
# Usage: find-python.sh [CANDIDATE]. A given candidate (make ... PYTHON=...) is tried first.
# Candidates are run, not just looked up: on pyenv machines `python3.12` is a shim that exists on
# PATH but fails unless that version is selected.
ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }

if [ -n "$1" ]; then
    if ok "$1"; then command -v "$1" 2>/dev/null || echo "$1"; exit 0; fi
    echo "error: PYTHON=$1 is not a working Python >= 3.12" >&2; exit 1
fi
for c in python3.12 python3.13 python3.14 python3 python; do
    if ok "$c"; then command -v "$c"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
    root=$(pyenv root)
    for c in "$root"/versions/3.1[2-9]*/bin/python3; do
        if [ -x "$c" ] && ok "$c"; then echo "$c"; exit 0; fi
    done
fi
cat >&2 <<'MSG'
error: no Python >= 3.12 found (Mesa 3.5 requires it).
Install one, e.g. `sudo apt-get install python3.12 python3.12-venv`, `pyenv install 3.12`,
or `uv python install 3.12`; or point to one: `make test PYTHON=/path/to/python3.12`.
MSG
exit 1
