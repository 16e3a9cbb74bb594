#!/bin/sh
# Installer size and installed size of a Gemma Desk .deb (docs/performance.md).
#
#   docs/bench-installer.sh path/to/gemma-desk_X.Y.Z_amd64.deb            # the .deb and what it declares
#   sudo docs/bench-installer.sh path/to/….deb --installed                  # also what it really takes on disk
#
# Prints the .deb's size (goal: under 12 MB, i.e. 12,000,000 bytes), its Installed-Size field (KiB, what apt
# shows), its largest files, and its dependencies (installed separately: WebKitGTK is not counted). With
# --installed (root only): installs the .deb with apt-get (which fetches missing dependencies), sums the files
# `dpkg -L` lists with du, then removes it again if it was not installed before.
set -eu

usage() { echo "usage: $0 FILE.deb [--installed]" >&2; exit 2; }
[ $# -ge 1 ] || usage
deb=$1
measure_installed=no
[ "${2:-}" = "--installed" ] && measure_installed=yes
[ -f "$deb" ] || { echo "error: no such file: $deb" >&2; exit 2; }
command -v dpkg-deb >/dev/null || { echo "error: dpkg-deb is needed (Debian/Ubuntu)" >&2; exit 2; }

goal=12000000
bytes=$(stat -c %s "$deb")
pkg=$(dpkg-deb -f "$deb" Package)
version=$(dpkg-deb -f "$deb" Version)
installed_kib=$(dpkg-deb -f "$deb" Installed-Size)

echo "package:        $pkg $version ($(basename "$deb"))"
awk -v b="$bytes" -v g="$goal" 'BEGIN {
  printf ".deb size:      %d bytes = %.2f MB = %.2f MiB\n", b, b / 1e6, b / 1048576
  if (b <= g) printf "goal < 12 MB:   met (%.2f MB to spare)\n", (g - b) / 1e6
  else        printf "goal < 12 MB:   MISSED by %.2f MB\n", (b - g) / 1e6
}'
awk -v k="$installed_kib" 'BEGIN { printf "Installed-Size: %d KiB = %.2f MB (the control field apt shows)\n", k, k * 1024 / 1e6 }'
echo "largest files in the package (uncompressed bytes):"
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { size = $3; $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); print size "\t" $0 }' \
  | sort -rn | head -8 | awk -F '\t' '{ printf "  %12d  %s\n", $1, $2 }'
echo "depends (installed separately, not counted above):"
dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/^ */  /'

[ "$measure_installed" = yes ] || exit 0
if [ "$(id -u)" != 0 ]; then
  echo "--installed needs root (it installs the package): run it with sudo" >&2
  exit 1
fi
was_installed=no
dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" && was_installed=yes
if [ "$was_installed" = no ]; then
  echo "installing $deb (apt-get fetches missing dependencies)…"
  case "$deb" in /*) path=$deb ;; *) path=./$deb ;; esac
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$path" >/dev/null
fi
# Regular files and symlinks the package owns (directories like /usr are shared with everything else).
real_kib=$(dpkg -L "$pkg" | while IFS= read -r f; do [ -f "$f" ] && [ ! -d "$f" ] && printf '%s\0' "$f"; done \
  | du -c -k --files0-from=- 2>/dev/null | tail -1 | cut -f1)
awk -v k="$real_kib" 'BEGIN { printf "installed:      %d KiB = %.2f MB on disk (du over dpkg -L)\n", k, k * 1024 / 1e6 }'
if [ "$was_installed" = no ]; then
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$pkg" >/dev/null
  echo "(removed again: it was not installed before)"
fi
