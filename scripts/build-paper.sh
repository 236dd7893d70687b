#!/usr/bin/env bash
# Build paper/paper.pdf from paper/*.tex, figures/*.png and figures/numbers/*.json.
#
#   scripts/build-paper.sh            # PYTHON defaults to .venv/bin/python
#
# 1. installs TeX when missing (scripts/install-tex.sh);
# 2. checks the provenance of every figure and number (figures/manifest.json): an output whose
#    notebook, parameters or input data changed since it was made stops the build;
#    then writes paper/build/numbers.tex, the \gmmresult lookups of every recorded number;
# 3. runs latexmk in paper/ (see paper/latexmkrc) into paper/build/;
# 4. fails if the log reports an undefined reference, citation or file, even when latexmk
#    found nothing to redo;
# 5. copies paper/build/paper.pdf to paper/paper.pdf (atomically). The PDF is byte-stable (no
#    dates or trailer ID; see paper/paper.tex), so rebuilding unchanged inputs leaves git clean.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}

scripts/install-tex.sh

mkdir -p paper/build
"$PYTHON" -m gmm.companion.provenance --check
"$PYTHON" -m gmm.companion.numbers paper/build/numbers.tex

log=paper/build/paper.log
if ! (cd paper && latexmk -quiet); then
    echo "build-paper: latexmk failed; the errors in $log:" >&2
    grep -nE -A3 '^(\./[^:]+:[0-9]+:|! )' "$log" | head -40 >&2 || true
    exit 1
fi

if grep -nE "undefined references|Reference .* undefined|Citation .* undefined|File .* not found|gmmresult: no recorded number" "$log"; then
    echo "build-paper: $log reports the problems above" >&2
    exit 1
fi

tmp=$(mktemp paper/.paper.pdf.XXXXXX)
cp paper/build/paper.pdf "$tmp"
chmod 0644 "$tmp"  # mktemp makes it private
mv -f "$tmp" paper/paper.pdf
echo "build-paper: wrote paper/paper.pdf"
