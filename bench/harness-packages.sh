#!/bin/sh
# Debian packages whose pictures make the broad match-quality corpus (bench/broad_corpus.py),
# and the tools that render them. Run as root (or with sudo) before
#   python -m bench.broad_corpus        (or: python -m bench.broad --build)
# A package that is missing is skipped by the builder and reported (report.json), so a partial
# install still builds, but the corpus then differs from the one the recorded results used.
# Tested on Debian 12 (bookworm).
set -eu

# the picture sources (exactly the packages bench/broad_corpus.py PACKAGES lists)
PICTURES="gnome-backgrounds mate-backgrounds plasma-workspace-wallpapers ukui-wallpapers desktop-base
stellarium-data kstars-data gcompris-qt-data tuxpaint-stamps-default openclipart-png
papirus-icon-theme gimp-help-en gnome-user-docs marble-data"

# renderers: gdk-pixbuf-thumbnailer + librsvg's loader (SVG icons, figures, wallpapers), pdftoppm (pages)
TOOLS="libgdk-pixbuf2.0-bin librsvg2-common poppler-utils"

export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086
apt-get install -y $PICTURES $TOOLS
