#!/usr/bin/env bash
# Install the TeX Live subset the paper needs, from Debian/Ubuntu packages, when it is missing.
#
#   scripts/install-tex.sh          # no-op when latexmk, pdflatex, bibtex and the packages exist
#
# The set is deliberately small: 27 s on Debian 12 from nothing (empty apt lists and package
# cache), about 130 MB installed. texlive-latex-recommended brings pdflatex, bibtex, amsmath,
# hyperref, natbib, caption/subcaption, microtype, booktabs, geometry, xcolor, mathtools;
# texlive-fonts-recommended and lmodern the Type 1 fonts (Latin Modern in T1/TS1 encoding, so no
# bitmap font is ever generated); latexmk drives the runs.
# Nothing from texlive-latex-extra is used, so keep it that way when editing paper/.
set -euo pipefail

PACKAGES=(latexmk texlive-latex-recommended texlive-fonts-recommended lmodern)
STYLES=(lmodern amsmath amssymb amsthm mathtools bm graphicx booktabs caption subcaption microtype
        xcolor natbib hyperref geometry)

have_tex() {
    command -v latexmk >/dev/null && command -v pdflatex >/dev/null && command -v bibtex >/dev/null \
        && command -v kpsewhich >/dev/null || return 1
    local style
    for style in "${STYLES[@]}"; do
        [[ -n "$(kpsewhich "$style.sty")" ]] || return 1
    done
    [[ -n "$(kpsewhich plainnat.bst)" ]]
}

if have_tex; then
    exit 0
fi

if ! command -v apt-get >/dev/null; then
    echo "install-tex: TeX is missing and apt-get is not available; install ${PACKAGES[*]}" \
         "(or an equivalent TeX Live with latexmk) by hand." >&2
    exit 1
fi
SUDO=()
if [[ "$(id -u)" != 0 ]]; then
    if command -v sudo >/dev/null; then
        SUDO=(sudo)
    else
        echo "install-tex: need root (or sudo) to install ${PACKAGES[*]}" >&2
        exit 1
    fi
fi

echo "install-tex: installing ${PACKAGES[*]}" >&2
start=$SECONDS
"${SUDO[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
echo "install-tex: done in $((SECONDS - start)) s" >&2

if ! have_tex; then
    echo "install-tex: installed ${PACKAGES[*]} but a required LaTeX package is still missing" >&2
    exit 1
fi
