#!/usr/bin/env bash
# llama.cpp calibration benchmark, run on the GPU machine from the repository root:
#
#   bash benchmarks/llamacpp_truth/device_run.sh build     # pip wheels + build llama-cpp-python (CUDA)
#   bash benchmarks/llamacpp_truth/device_run.sh measure   # synthetic GGUFs, quantize, measure grid
#   bash benchmarks/llamacpp_truth/device_run.sh speed     # only the GGUFs speed.py needs + speed runs
#
# `speed` writes $OUT/speed_h100.json (copied after every config) and stops starting new work
# after SPEED_BUDGET_S seconds (default 480); it resumes from $WORK/speed.json.
#
# Needs .devcarry/ (gguf and diskcache wheels, the slim llama-cpp-python sdist) carried along.
# Every phase is resumable: `build` skips an installed llama_cpp and, when a build is still
# running in the background (started with setsid), just waits for it again; `measure` keeps the
# models it already wrote and the runs it already recorded. Outputs go to $OUT (default
# build/llamacpp_truth/out): llamacpp_truth.json (all measurements) and device_run.log.
set -uo pipefail

PHASE="${1:-}"
ROOT="$(pwd)"
WORK="${LLAMACPP_TRUTH_WORK:-$ROOT/build/llamacpp_truth}"
PYDEPS="$WORK/pydeps"
MODELS="$WORK/models"
RESULTS="$WORK/llamacpp_truth.json"
BUILD_LOG="$WORK/build.log"
BUILD_PID="$WORK/build.pid"
BUILD_RC="$WORK/build.rc"
BUILD_INFO="$WORK/build_info.json"
OUT="${OUT:-$WORK/out}"
PY="${PYTHON:-python3}"
DEVCARRY="$ROOT/.devcarry"
SDIST="$DEVCARRY/llama_cpp_python-0.3.36-slim.tar.gz"
WAIT_S="${LLAMACPP_TRUTH_WAIT_S:-540}"        # how long `build` waits in one call
BUDGET_S="${LLAMACPP_TRUTH_BUDGET_S:-480}"    # how long `measure` starts new runs in one call
JOBS="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 16)}"

mkdir -p "$WORK" "$MODELS" "$OUT"
LOG="$OUT/device_run.log"
export PYTHONPATH="$PYDEPS${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1

log() { echo "[device_run $(date -u +%H:%M:%S)] $*" | tee -a "$LOG" >&2; }

have_llama_cpp() {
    CUDA_VISIBLE_DEVICES="" "$PY" -c "import llama_cpp, sys; sys.exit(0)" >/dev/null 2>&1
}

install_wheels() {
    if "$PY" -c "import gguf, diskcache" >/dev/null 2>&1; then
        log "gguf and diskcache already importable"
        return 0
    fi
    log "installing gguf + diskcache wheels into $PYDEPS"
    "$PY" -m pip install --no-index --no-deps --target "$PYDEPS" \
        "$DEVCARRY/gguf-0.19.0-py3-none-any.whl" \
        "$DEVCARRY/diskcache-5.6.3-py3-none-any.whl" >>"$LOG" 2>&1 || {
        log "ERROR: pip could not install the wheels from $DEVCARRY"; return 1; }
}

write_build_info() {
    local commit secs
    commit="$(tar -xzOf "$SDIST" --wildcards '*/CHANGELOG.md' 2>/dev/null \
        | grep -o 'ggml-org/llama.cpp@[0-9a-f]*' | head -n1 | sed 's/.*@//')"
    secs="${1:-null}"
    "$PY" - "$BUILD_INFO" "$commit" "$secs" <<'EOF'
import json, subprocess, sys
path, commit, secs = sys.argv[1], sys.argv[2], sys.argv[3]
def out(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
info = {
    "llama_cpp_commit_from_changelog": commit or None,
    "sdist": "llama_cpp_python-0.3.36-slim.tar.gz",
    "cmake_args": "-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=90 -DLLAVA_BUILD=off -DGGML_NATIVE=on",
    "build_seconds": None if secs in ("", "null") else float(secs),
    "nvcc": out(["nvcc", "--version"]),
    "gcc": (out(["gcc", "--version"]) or "").splitlines()[:1],
    "cmake": (out(["cmake", "--version"]) or "").splitlines()[:1],
    "llama_cpp_python": out([sys.executable, "-c", "import llama_cpp; print(llama_cpp.__version__)"]),
}
json.dump(info, open(path, "w"), indent=1)
EOF
}

build_background() {
    # Runs detached (setsid) so that it survives the end of this call.
    local t0=$SECONDS
    export CMAKE_ARGS="-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=90 -DLLAVA_BUILD=off -DGGML_NATIVE=on"
    export CMAKE_BUILD_PARALLEL_LEVEL="$JOBS"
    export FORCE_CMAKE=1
    "$PY" -m pip install --no-build-isolation --no-deps --no-index --target "$PYDEPS" \
        --verbose "$SDIST" >"$BUILD_LOG" 2>&1
    local rc=$?
    echo "$rc" >"$BUILD_RC"
    [ "$rc" = 0 ] && write_build_info "$((SECONDS - t0))"
    return "$rc"
}

phase_build() {
    install_wheels || return 1
    if have_llama_cpp; then
        log "llama_cpp already installed: $("$PY" -c 'import llama_cpp; print(llama_cpp.__version__, llama_cpp.__file__)' 2>&1)"
        [ -f "$BUILD_INFO" ] || write_build_info
        return 0
    fi
    if [ -f "$BUILD_PID" ] && kill -0 "$(cat "$BUILD_PID")" 2>/dev/null; then
        log "build already running (pid $(cat "$BUILD_PID")), waiting for it"
    else
        [ -f "$SDIST" ] || { log "ERROR: $SDIST missing (carry .devcarry)"; return 1; }
        rm -f "$BUILD_RC"
        log "building llama-cpp-python (CUDA, sm_90, $JOBS jobs) in the background; log $BUILD_LOG"
        export -f build_background write_build_info log
        export PY PYDEPS SDIST BUILD_LOG BUILD_RC BUILD_INFO JOBS LOG
        setsid bash -c build_background </dev/null >/dev/null 2>&1 &
        echo $! >"$BUILD_PID"
    fi
    local waited=0
    while [ "$waited" -lt "$WAIT_S" ]; do
        if [ -f "$BUILD_RC" ]; then break; fi
        if ! kill -0 "$(cat "$BUILD_PID")" 2>/dev/null; then sleep 2; break; fi
        sleep 10
        waited=$((waited + 10))
        if [ $((waited % 60)) = 0 ]; then
            log "still building after ${waited}s: $(tail -n1 "$BUILD_LOG" 2>/dev/null | cut -c1-160)"
        fi
    done
    cp "$BUILD_LOG" "$OUT/build.log" 2>/dev/null || true
    if [ -f "$BUILD_RC" ] && [ "$(cat "$BUILD_RC")" = 0 ] && have_llama_cpp; then
        log "build done: $(cat "$BUILD_INFO" 2>/dev/null | tr -d '\n' | cut -c1-300)"
        return 0
    fi
    if [ -f "$BUILD_RC" ]; then
        log "ERROR: build failed (rc $(cat "$BUILD_RC")); last lines:"
        tail -n 40 "$BUILD_LOG" | tee -a "$LOG" >&2
        return 1
    fi
    log "build still running; call 'device_run.sh build' again to keep waiting"
    return 3
}

phase_prepare() {
    have_llama_cpp || { log "ERROR: llama_cpp not importable; run the build phase first"; return 1; }
    log "writing synthetic GGUFs and quantizing into $MODELS (disk: $(df -h "$WORK" | tail -n1))"
    "$PY" -m benchmarks.llamacpp_truth.prepare --models-dir "$MODELS" --threads "$JOBS" \
        2>&1 | tee -a "$LOG" >&2
    local rc=${PIPESTATUS[0]}
    ls -l "$MODELS" | tee -a "$LOG" >&2
    return "$rc"
}

phase_measure() {
    phase_prepare || log "prepare reported a problem; measuring what exists"
    log "measuring (budget ${BUDGET_S}s for new runs)"
    "$PY" -m benchmarks.llamacpp_truth.measure run --models-dir "$MODELS" --results "$RESULTS" \
        --work-dir "$WORK/work" --build-info "$BUILD_INFO" --budget-s "$BUDGET_S" "$@" \
        2>&1 | tee -a "$LOG" >&2
    local rc=${PIPESTATUS[0]}
    cp "$RESULTS" "$OUT/llamacpp_truth.json" 2>/dev/null || true
    cp "$MODELS/models.json" "$OUT/models.json" 2>/dev/null || true
    log "results copied to $OUT/llamacpp_truth.json (rc $rc)"
    return "$rc"
}

phase_speed() {
    have_llama_cpp || { log "ERROR: llama_cpp not importable; run the build phase first"; return 1; }
    log "speed runs (budget ${SPEED_BUDGET_S:-480}s, disk: $(df -h "$WORK" | tail -n1))"
    "$PY" -m benchmarks.llamacpp_truth.speed run --models-dir "$MODELS" --results "$WORK/speed.json" \
        --work-dir "$WORK/speed_work" --copy-to "$OUT/speed_h100.json" --build-info "$BUILD_INFO" \
        --budget-s "${SPEED_BUDGET_S:-480}" --threads "$JOBS" "$@" 2>&1 | tee -a "$LOG" >&2
    local rc=${PIPESTATUS[0]}
    cp "$MODELS/models.json" "$OUT/models.json" 2>/dev/null || true
    return "$rc"
}

phase_dry() {
    log "dry run (no llama_cpp import) into $WORK/dry"
    "$PY" -m benchmarks.llamacpp_truth.measure run --models-dir "$MODELS" \
        --results "$WORK/dry/llamacpp_truth.json" --work-dir "$WORK/dry/work" --dry-run \
        --max-runs "${DRY_RUNS:-6}" 2>&1 | tee -a "$LOG" >&2
}

case "$PHASE" in
    build) phase_build ;;
    prepare) phase_prepare ;;
    measure) shift; phase_measure "$@" ;;
    all) phase_build && phase_measure ;;
    speed) shift; phase_speed "$@" ;;
    dry) phase_dry ;;
    *) echo "usage: $0 build|prepare|measure|speed|all|dry" >&2; exit 2 ;;
esac
rc=$?
log "phase '$PHASE' finished with rc $rc"
exit "$rc"
