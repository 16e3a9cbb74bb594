#!/usr/bin/env bash
# The Linux package as people get it: install the .deb with apt, check its menu entry and icon, start the app the
# way the desktop menu does under a virtual display of its own and see its window drawn, stop it, then remove the
# package and check that nothing it installed is left.
#   tests/deb/run.sh [FILE.deb]   test that package (default: the one `tauri build --bundles deb` made)
#   tests/deb/run.sh --build      build the .deb first (`tauri build --bundles deb`, the shipped profile), then test it
#   tests/deb/run.sh --bundle-debug   package the app already built by `cargo build` in the dev profile
#                                 (`tauri bundle --debug`): what CI tests, compiling nothing but the app crate
# The Tauri CLI is the prebuilt one from the npm registry, pinned in tests/deb/package.json (installed on first use).
# Installs and removes the package `gemma-desk` system-wide (root, or sudo). Needs xvfb, xdotool, imagemagick,
# x11-utils, desktop-file-utils and dbus-daemon (./dev test installs them). Screenshot: tests/deb/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
fail() { printf '\033[1;31mFAIL: %s\033[0m\n' "$*" >&2; exit 1; }

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
apt_get() { DEBIAN_FRONTEND=noninteractive $sudo apt-get "$@"; }
profile=release
[ "${1:-}" = --bundle-debug ] && profile=debug
bundle_dir="${CARGO_TARGET_DIR:-$PWD/target}/$profile/bundle/deb"
artifacts="$PWD/tests/deb/artifacts"

tauri() {
  [ -x tests/deb/node_modules/.bin/tauri ] || (cd tests/deb && npm ci --no-audit --no-fund --silent)
  tests/deb/node_modules/.bin/tauri "$@"
}

deb="${1:-}"
if [ "$deb" = --build ]; then
  say "Building the .deb (shipped profile: tauri build --bundles deb)"
  start=$SECONDS
  tauri build --bundles deb -- --locked
  say "Built in $((SECONDS - start)) s"
  deb=""
elif [ "$deb" = --bundle-debug ]; then
  # The app in the dev profile without the test-only `e2e` feature, built with --workspace and --tests as ./dev test
  # builds, so that only the app crate is compiled again (`-p gemma-desk` would select other dependency features).
  say "Packaging the dev-profile app (tauri bundle --debug --bundles deb)"
  start=$SECONDS
  cargo build --workspace --bins --tests --locked
  tauri bundle --debug --bundles deb
  say "Packaged in $((SECONDS - start)) s"
  deb=""
fi
if [ -z "$deb" ]; then
  # Tauri names the file after the product ("Gemma Desk_0.1.0_amd64.deb"); give it Debian's package_version_arch
  # name, which is what people type: apt install ./gemma-desk_*.deb
  built=$(ls -t "$bundle_dir"/*.deb 2>/dev/null | head -n 1) || true
  [ -n "$built" ] || fail "no .deb in $bundle_dir: build one with tests/deb/run.sh --build"
  f() { dpkg-deb --field "$built" "$1"; }
  deb="$bundle_dir/$(f Package)_$(f Version)_$(f Architecture).deb"
  [ "$built" -ef "$deb" ] || cp "$built" "$deb"
fi
[ -f "$deb" ] || fail "$deb: no such file"
deb=$(realpath "$deb")
pkg=$(dpkg-deb --field "$deb" Package)

tmp=$(mktemp -d)
installed="" app_pid="" xvfb_pid=""
cleanup() {
  local status=$?
  if [ -n "$app_pid" ]; then kill -TERM -- "-$app_pid" 2>/dev/null || true; fi
  if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2>/dev/null || true; fi
  if [ -n "$installed" ]; then
    say "Removing $pkg after a failure"
    apt_get remove --purge -y -qq "$pkg" >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT

say "$(basename "$deb"): $(du -k "$deb" | cut -f1) KiB ($(stat -c %s "$deb") bytes)"
dpkg-deb --info "$deb" | sed -n 's/^ \(Package\|Version\|Architecture\|Installed-Size\|Maintainer\|Depends\): /  \1: /p' >&2
# The Maintainer field comes from bundle.publisher (else the bundler makes one up from the identifier).
[ "$(dpkg-deb -f "$deb" Maintainer)" = "Gemma Desk" ] || fail "Maintainer is \"$(dpkg-deb -f "$deb" Maintainer)\", not bundle.publisher"

if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
  say "$pkg is installed already: removing it first, to test a fresh install"
  apt_get remove --purge -y -qq "$pkg" >/dev/null
fi
# What the package will create, and which of its folders exist before (those must still exist after removal;
# the others must be gone).
dpkg-deb --fsys-tarfile "$deb" | tar -t | sed 's|^\./||; s|^/||; s|/$||' | grep -v '^$' | sed 's|^|/|' >"$tmp/contents"
while read -r path; do if [ -d "$path" ]; then echo "$path"; fi; done <"$tmp/contents" >"$tmp/dirs-before"

say "apt-get install ./$(basename "$deb")"
installed=1
(cd "$(dirname "$deb")" && apt_get install -y -qq "./$(basename "$deb")" >/dev/null)
dpkg-query -W -f='${Status}' "$pkg" | grep -q "install ok installed" || fail "$pkg is not installed"
dpkg -L "$pkg" | grep -v '^/\.$' >"$tmp/files"
installed_kib=$(dpkg-query -W -f='${Installed-Size}' "$pkg")
say "Installed: $installed_kib KiB (Installed-Size), $(grep -c . "$tmp/files") paths"

say "The menu entry"
desktop=$(grep '^/usr/share/applications/.*\.desktop$' "$tmp/files" | head -n 1)
[ -n "$desktop" ] || fail "no desktop entry in /usr/share/applications"
desktop-file-validate "$desktop" || fail "$desktop does not validate"
entry() { sed -n "s/^$1=//p" "$desktop" | head -n 1; }
sed 's/^/  /' "$desktop" >&2
[ "$(entry Type)" = Application ] || fail "Type is not Application"
[ "$(entry Name)" = "Gemma Desk" ] || fail "Name is '$(entry Name)'"
# Exec without its field codes (%f, %U, ...), as a launcher runs it.
exec_line=$(entry Exec | sed 's/ *%[fFuUdDnNickvm]//g')
read -r -a exec_argv <<<"$exec_line"
exec_path=$(PATH=/usr/local/bin:/usr/bin:/bin command -v "${exec_argv[0]}") || fail "Exec ${exec_argv[0]} is not on PATH"
grep -Fqx "$exec_path" "$tmp/files" || fail "Exec runs $exec_path, which is not the package's"
icon=$(entry Icon)
grep -q "^/usr/share/icons/hicolor/[^/]*/apps/$icon\.png$" "$tmp/files" || fail "no hicolor icon named $icon"
grep "^/usr/share/icons/hicolor/.*/apps/$icon\.png$" "$tmp/files" | while read -r png; do
  [ -s "$png" ] || fail "$png is missing"
  identify -format "  $png: %wx%h\n" "$png" >&2
done

say "Starting it as the menu does: $exec_line"
display=""
for n in $(seq 90 140); do
  [ -e "/tmp/.X$n-lock" ] || [ -e "/tmp/.X11-unix/X$n" ] || { display=":$n"; break; }
done
[ -n "$display" ] || fail "no free X display"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 50); do xdpyinfo -display "$display" >/dev/null 2>&1 && break; sleep 0.1; done
xdpyinfo -display "$display" >/dev/null 2>&1 || fail "Xvfb did not start on $display"
home="$tmp/home"
mkdir -p "$home" "$tmp/run" && chmod 700 "$tmp/run"
# A fresh user: own HOME and XDG folders, a session bus of its own, and no Ollama to find (a port nothing uses).
setsid env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" USER="${USER:-root}" LANG=C.UTF-8 DISPLAY="$display" \
  XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" XDG_CACHE_HOME="$home/.cache" \
  XDG_STATE_HOME="$home/.local/state" XDG_RUNTIME_DIR="$tmp/run" WEBKIT_DISABLE_COMPOSITING_MODE=1 \
  OLLAMA_HOST=127.0.0.1:9 \
  sh -c 'cd "$HOME" && exec dbus-run-session -- "$@"' app "${exec_argv[@]}" >"$tmp/app.log" 2>&1 &
app_pid=$!
wid=$(DISPLAY="$display" timeout 60 xdotool search --sync --onlyvisible --name '^Gemma Desk$' | head -n 1) ||
  { cat "$tmp/app.log" >&2; fail "no window titled 'Gemma Desk' within 60 s"; }
app=$(pgrep -s "$app_pid" -x "$(basename "$exec_path")" | head -n 1) || true
[ -n "$app" ] && [ "$(readlink "/proc/$app/exe")" = "$exec_path" ] || fail "the window is not from $exec_path"
# Docks and task bars tie the window to its menu entry (and icon) through StartupWMClass.
wm_class=$(xprop -display "$display" -id "$wid" WM_CLASS | sed 's/^[^=]*= //')
startup_class=$(entry StartupWMClass)
[ -z "$startup_class" ] || [[ "$wm_class" == *"\"$startup_class\""* ]] ||
  fail "StartupWMClass=$startup_class does not match the window's WM_CLASS $wm_class"
say "Window $wid is up (WM_CLASS $wm_class); waiting for the page to be drawn"
mkdir -p "$artifacts"
shot="$artifacts/menu-launch.png"
colours=0
for _ in $(seq 30); do
  sleep 1
  DISPLAY="$display" import -window root "$shot"
  # An empty or white web view has a handful of colours; drawn text and controls have hundreds.
  colours=$(identify -format %k "$shot")
  [ "$colours" -ge 200 ] && break
done
[ "$colours" -ge 200 ] || { cat "$tmp/app.log" >&2; fail "the window stayed blank ($colours colours): $shot"; }
say "Screenshot: ${shot#"$PWD"/} ($colours colours)"

say "Stopping it"
kill -TERM -- "-$app_pid"
for _ in $(seq 100); do kill -0 -- "-$app_pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL -- "-$app_pid" 2>/dev/null || true
app_pid=""
kill "$xvfb_pid" && wait "$xvfb_pid" 2>/dev/null || true
xvfb_pid=""

say "apt-get remove --purge $pkg"
apt_get remove --purge -y -qq "$pkg" >/dev/null
installed=""
dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" && fail "$pkg is still installed"
left=0
while read -r path; do
  if [ -d "$path" ] && ! [ -L "$path" ]; then
    grep -Fqx "$path" "$tmp/dirs-before" || { echo "  left behind: $path/" >&2; left=1; }
  elif [ -e "$path" ] || [ -L "$path" ]; then
    echo "  left behind: $path" >&2
    left=1
  fi
done <"$tmp/files"
[ "$left" = 0 ] || fail "removing $pkg left files behind"
say "Removed cleanly: all $(grep -c . "$tmp/files") paths it installed are gone (shared folders stay)"

echo "deb: $(basename "$deb") $(stat -c %s "$deb") bytes; installed: $installed_kib KiB" >&2
echo "deb: 1 passed, 0 failed"
