#!/bin/sh
# Debian packages whose pictures make the broad match-quality corpus (bench/broad_corpus.py),
# and the tools that render them. Run as root (or with sudo) before
#   python -m bench.broad_corpus        (or: python -m bench.broad --build)
# A package that is missing is skipped by the builder and reported (report.json), so a partial
# install still builds, but the corpus then differs from the one the recorded results used.
# Tested on Debian 12 (bookworm).
set -eu

# the picture sources of tune/ and aside/ (exactly bench/broad_corpus.py TUNE_ASIDE_PACKAGES)
PICTURES="gnome-backgrounds mate-backgrounds plasma-workspace-wallpapers ukui-wallpapers desktop-base
stellarium-data kstars-data gcompris-qt-data tuxpaint-stamps-default openclipart-png
papirus-icon-theme gimp-help-en gnome-user-docs marble-data"

# the picture sources of holdout/, the fresh kept-aside part (exactly bench/broad_corpus.py
# HOLDOUT_PACKAGES): none of them gives a picture to tune or aside. Installed without recommends,
# so that the only other packages they pull in are the ones PACKAGE_EXTRAS lists (fonts-lato,
# fonts-adf-oldania, libgoocanvas-2.0-*, debian-edu-artwork, libconfig-inifiles-perl), whose
# copyright texts go to holdout: tune and aside stay byte-identical with or without these.
HOLDOUT="naev-data openuniverse-common xplanet-images wesnoth-1.16-data breeze-icon-theme
mate-user-guide gnucash-docs inkscape-tutorials graphviz-doc imagemagick-6-doc gpredict
xfdesktop4-data sway-backgrounds lomiri-wallpapers lomiri-wallpapers-20.04 lomiri-wallpapers-16.04
debian-edu-artwork-spacefun debian-edu-artwork-emerald debian-edu-artwork-homeworld
debian-edu-artwork-buster debian-edu-artwork-softwaves gnuplot-doc asymptote-doc glpk-doc"

# the picture sources of fresh/, the next blind part (exactly bench/broad_corpus.py FRESH_PACKAGES),
# added after holdout had been seen: none of them gives a picture to tune, aside or holdout. Without
# recommends; apt pulls in fonts-roboto-unhinted, info, install-info, tex-common and lxqt-system-theme
# (PACKAGE_EXTRAS), whose documents go to fresh.
FRESH="endless-sky-data freeorion-data oxygen-icon-theme elementary-icon-theme kdegames-card-data-kf5
hedgewars-data frozen-bubble-data pingus-data tuxtype-data gnumeric-doc wireshark-doc gnome-devel-docs
octave-doc maxima-doc lxqt-themes r-doc-pdf plplot-doc"

# the picture sources of blind5/, the next blind part (exactly bench/broad_corpus.py BLIND5_PACKAGES),
# added after fresh had been seen: none of them gives a picture to tune, aside, holdout or fresh.
# Without recommends; apt pulls in fonts-nanum, numix-icon-theme, neverball-common, fonts-open-sans,
# libjs-mathjax and fonts-mathjax (PACKAGE_EXTRAS), whose documents go to blind5.
BLIND5="marsshooter-data starfighter-data saods9-doc supertux-data blobwars-data chromium-bsu-data
numix-icon-theme-circle mate-icon-theme hugin-data warzone2100-data neverball-data python-scipy-doc
lxde-common opencv-doc pari-doc"

# the picture sources of blind6/, the next blind part (exactly bench/broad_corpus.py BLIND6_PACKAGES),
# added after blind5 had been seen: none of them gives a picture to tune, aside, holdout, fresh or blind5.
# Without recommends; apt pulls in ttf-bitstream-vera, fonts-sil-andika, fonts-vlgothic,
# fonts-wqy-microhei and fonts-alee (PACKAGE_EXTRAS), whose documents go to blind6.
BLIND6="gravit-data moon-lander-data python-imexam-doc tuxmath-data kgeography-data warmux-data
tango-icon-theme lxde-icon-theme libgtk-3-doc kicad-doc-en extremetuxracer-data python-astropy-doc
sdl-ball-data palapeli-data scribus-template gap-doc"

# the picture sources of blind7/, the next blind part (exactly bench/broad_corpus.py BLIND7_PACKAGES),
# added after blind6 had been seen: none of them gives a picture to tune, aside, holdout, fresh, blind5 or
# blind6. Without recommends; apt pulls in libast2, libimlib2, libid3tag0, libspectre1, grub-common,
# libefiboot1, libefivar1, libfuse2, libjs-bootstrap, fonts-glyphicons-halflings, libjs-bootstrap4 and
# libjs-popper.js (PACKAGE_EXTRAS), whose documents go to blind7.
BLIND7="kobodeluxe-data grub-theme-starfield starvoyager-data python-astroquery-doc python-astroplan-doc freeciv-data
brainparty-data glpeces-data atomix-data faenza-icon-theme gnome-icon-theme libgtk-4-doc libadwaita-1-doc
qtbase5-doc-html python-skimage-doc python-sklearn-doc ngspice-doc sddm-theme-maldives sddm-theme-maui
sddm-theme-elarun lbreakouthd-data eterm kdegames-mahjongg-data-kf5 mypaint-data-extras lilypond-doc-pdf"

# the picture sources of blind8/, the next blind part (exactly bench/broad_corpus.py BLIND8_PACKAGES),
# added after blind7 had been seen: none of them gives a picture to tune, aside, holdout, fresh, blind5,
# blind6 or blind7. Without recommends; apt pulls in libalut0, libhdate1, faba-icon-theme and
# libjs-requirejs (PACKAGE_EXTRAS), whose documents go to blind8.
BLIND8="munipack-doc spacezero hdate-applet bumprace-data pioneers-data teeworlds-data gnome-cards-data
caveexpress-data deepin-icon-theme moka-icon-theme qttools5-doc-html geany-common games-thumbnails fotoxx-common
cimg-doc stilts-doc python-statsmodels-doc zaz-data berusky-data gnome-control-center-data labelme-examples
therion-doc nut-doc"

# the picture sources of blind9/, the next blind part (exactly bench/broad_corpus.py BLIND9_PACKAGES),
# added after blind8 had been seen: none of them gives a picture to tune, aside, holdout, fresh or blind5
# ... blind8. Without recommends; apt pulls in libcanberra0 and libgsound0 (PACKAGE_EXTRAS), whose
# documents go to blind9.
BLIND9="colobot-common-textures gl-117-data alienblaster-data starplot python-pyregion-doc pokerth-data
planetblupi-common dreamchess-data ktuberling-data kalzium-data btanks-data gnome-icon-theme-gartoon
suru-icon-theme xfig-doc parley-data powermanga-data grass-doc python-xarray-doc python-sympy-doc
python3-pyspectral-doc krita-data gnome-taquin gprolog-doc netgen-doc"

# the picture sources of blind10/, the next blind part (exactly bench/broad_corpus.py BLIND10_PACKAGES),
# added after blind9 had been seen: none of them gives a picture to tune, aside, holdout, fresh or blind5
# ... blind9. Without recommends; apt pulls in cube2, libenet7, flare-engine, fonts-unifont, fonts-aenigma,
# fonts-font-awesome and sphinx-rtd-theme-common (PACKAGE_EXTRAS), whose documents go to blind10.
BLIND10="redeclipse-data cube2-data python-pycoast-doc freedroidrpg-data flare-game megaglest-data
fillets-ng-data qabcs-data workrave-data gigalomania-data lordsawar-data gimp-data sugar-icon-theme
freedombox-doc-en debian-handbook enigma-doc plasma-workspace-data halide14-api-doc libstarlink-ast-doc
scorched3d-data blobandconquer-data crrcsim-data mandelbulber2-data visp-images-data libsixel-examples
c++-annotations-pdf packaging-tutorial"

# the picture sources of blind11/, the blind part after blind10 (exactly bench/broad_corpus.py
# BLIND11_PACKAGES), added while blind10 was still blind: none of them gives a picture to tune, aside,
# holdout, fresh or blind5 ... blind10. Without recommends; apt pulls in libsdl-mixer1.2, libsdl1.2debian,
# libmad0 and libmikmod3 with blockout2 (PACKAGE_EXTRAS), whose documents go to blind11.
BLIND11="dpuser-doc python-pyresample-doc savi open-invaders-data blockout2 raincat-data scid-data
ceferino-data biniax2-data holotz-castle-data tecnoballz-data gnome-icon-theme-nuovo yaru-theme-icon
texstudio-doc openshot-qt-doc grisbi-common kst-doc qtquickcontrols2-5-doc-html trackballs-data
python-lmfit-doc qtcharts5-doc-html python-biopython-doc python-nibabel-doc propaganda-debian
wordpress-theme-twentytwentyone wordpress-theme-twentytwentytwo xteddy libjxl-testdata debmake-doc
abinit-doc"

# the picture sources of blind12/, the blind part after blind11 (exactly bench/broad_corpus.py
# BLIND12_PACKAGES), added while blind11 was still blind: none of them gives a picture to tune, aside,
# holdout, fresh or blind5 ... blind11. Without recommends; apt pulls in libkxl0 with spacearyarya
# (PACKAGE_EXTRAS), whose documents go to blind12.
BLIND12="python-vispy-doc python-cartopy-data spacearyarya xsoldier wing-data freedroid-data lbreakout2-data
hex-a-hop-data amoebax-data bomberclone-data freedink-data cuyo-data davegnukem-data airstrike-common
paper-icon-theme gnome-extra-icons bootstrap-icons debian-edu-doc-en drgeo-doc biloba-data afterstep-data
python-pyqtgraph-doc python-silx-doc python-dipy-doc live-manual-pdf gle-graphics-manual"

# the picture sources of blind13/, the blind part after blind12 (exactly bench/broad_corpus.py
# BLIND13_PACKAGES), added while blind12 was still blind: none of them gives a picture to tune, aside,
# holdout, fresh or blind5 ... blind12. Without recommends apt pulls in nothing else with them.
BLIND13="lebiniou-data tagua-data ruby-rmagick-doc shotwell-common glmark2-data siril-common rawtherapee-data
mypaint-data gthumb-data enlightenment-data lomiri-gallery-app-common qtdatavisualization5-doc-html
qt3d5-doc-html qtmultimedia5-doc-html qtquickcontrols5-doc-html qtlocation5-doc-html libgtk2.0-doc hydrogen-doc
qtdeclarative5-doc-html xbubble-data pekka-kana-2-data wizznic-data mirrormagic-data meritous-data openssn-data
micropolis-data hannah-data gnujump-data ketm-data pax-britannica-data orbital-eunuchs-sniper-data
foobillardplus-data"

# renderers: gdk-pixbuf-thumbnailer + librsvg's loader (SVG icons, figures, wallpapers), pdftoppm (pages)
TOOLS="libgdk-pixbuf2.0-bin librsvg2-common poppler-utils"

export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086
apt-get install -y $PICTURES $TOOLS
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $HOLDOUT
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $FRESH
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $BLIND5
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $BLIND6
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $BLIND7
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $BLIND8
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $BLIND9
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $BLIND10
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $BLIND11
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $BLIND12
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $BLIND13
