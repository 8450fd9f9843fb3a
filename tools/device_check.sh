#!/usr/bin/env bash
# GPU check (issue 16), meant to finish within 5 minutes on one CUDA GPU:
#   1. the CUDA-only tests (tests that skip without CUDA, selected by -k cuda);
#   2. benchmark_train.py at ResNet-50, 448 px, batch 16: fp32, AMP,
#      channels-last, AMP + channels-last;
#   3. benchmark_localizer.py --device cuda at the same size;
#   4. benchmark_data.py: CUB pipeline images/s per worker, and the workers
#      each measured GPU training rate needs.
# Every step writes its JSON (and its printed table, *.txt) under OUT_DIR.
#
#   bash tools/device_check.sh [OUT_DIR]      # default work_dirs/device_check
#   DEVICE_CHECK_TINY=1 bash tools/device_check.sh OUT_DIR   # CPU, toy sizes
#
# The tiny mode runs steps 2-4 on CPU at toy sizes (what CI checks); AMP is
# CUDA-only in benchmark_train.py, so tiny mode skips the AMP runs.
# PYTHON selects the interpreter (default: python). A failing step does not
# stop the others; the exit status is non-zero if any step failed.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
OUT=${1:-work_dirs/device_check}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

if [[ "${DEVICE_CHECK_TINY:-0}" == 1 ]]; then
    DEVICE=cpu
    TRAIN=(--depth 18 --img-size 32 --batch 2 --iters 1 --threads 1)
    LOC=(--depth 18 --img-size 64 --batch 2 --iters 1 --loc-batch 2
         --threads 1)
    DATA=(--num-images 10 --epochs 1 --batch 2 --workers 1)
    VARIANTS=(fp32 channels_last)
else
    DEVICE=cuda
    if ! "$PYTHON" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())'; then
        echo "device_check: no CUDA device visible to $PYTHON" >&2
        exit 2
    fi
    TRAIN=(--depth 50 --img-size 448 --batch 16 --iters 20 --warmup 3)
    LOC=(--depth 50 --img-size 448 --batch 16 --iters 20)
    DATA=(--num-images 200 --epochs 2 --batch 16 --workers 1)
    VARIANTS=(fp32 amp channels_last amp_channels_last)
fi

FAILED=()
step() {  # step NAME CMD...: run, tee the output to OUT/NAME.txt
    local name=$1
    shift
    rm -f "$OUT/$name.json"  # a failed step leaves no earlier run's JSON
    echo "== $name: $*"
    local start=$SECONDS
    "$@" 2>&1 | tee "$OUT/$name.txt"
    local rc=${PIPESTATUS[0]}
    echo "== $name: exit $rc, $((SECONDS - start)) s"
    [[ $rc == 0 ]] || FAILED+=("$name")
}

{
    date -u
    git rev-parse HEAD 2>/dev/null
    "$PYTHON" -c 'import torch, mmengine, mmpretrain; print("torch", torch.__version__, "cuda", torch.version.cuda, "mmengine", mmengine.__version__, "mmpretrain", mmpretrain.__version__)'
    command -v nvidia-smi >/dev/null && nvidia-smi
} > "$OUT/env.txt" 2>&1

# 1. tests that only run with CUDA (not in tiny mode: they would all skip)
if [[ $DEVICE == cuda ]]; then
    mapfile -t CUDA_TESTS < <(grep -rl --include='test_*.py' 'torch.cuda.is_available' tests)
    step pytest_cuda "$PYTHON" -m pytest -q -rs -k cuda "${CUDA_TESTS[@]}"
fi

# 2. training / inference throughput, four variants
TRAIN_JSONS=()
for variant in "${VARIANTS[@]}"; do
    flags=()
    [[ $variant == *amp* ]] && flags+=(--amp)
    [[ $variant == *channels_last* ]] && flags+=(--channels-last)
    step "train_$variant" "$PYTHON" tools/analysis_tools/benchmark_train.py \
        --device "$DEVICE" "${TRAIN[@]}" "${flags[@]}" \
        --json "$OUT/train_$variant.json"
    [[ -f "$OUT/train_$variant.json" ]] && TRAIN_JSONS+=("$OUT/train_$variant.json")
done

# 3. the localizer and the two-branch / single-branch ratio
step localizer "$PYTHON" tools/analysis_tools/benchmark_localizer.py \
    --device "$DEVICE" "${LOC[@]}" --json "$OUT/localizer.json"

# 4. the data pipeline, sized against the measured training rates
step data "$PYTHON" tools/analysis_tools/benchmark_data.py "${DATA[@]}" \
    --train-json "${TRAIN_JSONS[@]}" --json "$OUT/data.json"

echo "device_check: results in $OUT"
if (( ${#FAILED[@]} )); then
    echo "device_check: FAILED steps: ${FAILED[*]}" >&2
    exit 1
fi
