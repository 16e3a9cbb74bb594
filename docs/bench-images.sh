#!/usr/bin/env bash
# Image preparation benchmark: Gemma Desk's Rust pipeline against Pillow's draft-mode pipeline (open, draft,
# exif_transpose, thumbnail, JPEG save, base64) on the same file, in the same run, both from the file on disk.
#   docs/bench-images.sh [FILE] [RUNS]      (default: the 12 MP fixture, 30 runs)
# Set PIN=0 to skip the single-core pass (taskset).
set -euo pipefail
cd "$(dirname "$0")/.."
FILE=$(realpath "${1:-tests/fixtures/images/coffee-12mp.jpg}")
RUNS=${2:-30}
python3 -c 'import PIL' 2>/dev/null || pip install --quiet pillow

cargo bench -q -p gemma-desk-core --bench images --no-run 2>/dev/null || cargo bench -p gemma-desk-core --bench images --no-run

pillow() {
  python3 - "$FILE" "$RUNS" <<'PY'
import base64, io, sys, time
import PIL
from PIL import Image, ImageOps
path, runs, side = sys.argv[1], int(sys.argv[2]), 896
def once():
    im = Image.open(path)
    im.draft("RGB", (side, side))
    im = ImageOps.exif_transpose(im)
    im.thumbnail((side, side))
    out = io.BytesIO()
    im.convert("RGB").save(out, "JPEG", quality=85)
    return base64.b64encode(out.getvalue())
for _ in range(3):
    once()
times = []
for _ in range(runs):
    t = time.perf_counter(); b64 = once(); times.append((time.perf_counter() - t) * 1000)
times.sort()
print(f"pillow {PIL.__version__}: median {times[len(times)//2]:.1f} ms, min {times[0]:.1f} ms over {runs} runs, base64 {len(b64)} characters")
print(f"RESULT pillow_ms={times[len(times)//2]:.2f}")
PY
}

run() {  # $1: label, rest: command prefix (e.g. taskset -c 0)
  local label=$1; shift
  echo "== $label"
  local rust py
  rust=$("$@" cargo bench -q -p gemma-desk-core --bench images -- "$FILE" "$RUNS")
  py=$("$@" bash -c "$(declare -f pillow); FILE='$FILE' RUNS='$RUNS' pillow")
  echo "$rust" | grep -v '^RESULT'
  echo "$py" | grep -v '^RESULT'
  local r p b o
  r=$(echo "$rust" | sed -n 's/.*rust_ms=\([0-9.]*\).*/\1/p')
  b=$(echo "$rust" | sed -n 's/.* base64_len=\([0-9]*\).*/\1/p')
  o=$(echo "$rust" | sed -n 's/.*original_base64_len=\([0-9]*\).*/\1/p')
  p=$(echo "$py" | sed -n 's/.*pillow_ms=\([0-9.]*\).*/\1/p')
  python3 -c "print(f'ratio: Pillow / gemma-desk = {$p/$r:.2f}x (gemma-desk takes {100*$r/$p:.0f}% of Pillow\'s time)'); print(f'payload: {$b} base64 characters instead of {$o} for the original file ({100*$b/$o:.1f}%, {$o/$b:.0f}x smaller)')"
}

run "$(nproc) cores" env
if [ "${PIN:-1}" != 0 ] && command -v taskset >/dev/null; then
  run "one core (taskset -c 0)" taskset -c 0
fi
