#!/bin/sh
# One prepared run of the serving benchmark on a lent GPU machine (issue 16's `--device cuda`).
#
# That machine has Python 3.12 with PyTorch (CUDA), numpy and uvloop, no Django, no network, and
# 15 minutes of device time per session in all; LitServe is not there, so P3's HTTP comparison
# is skipped, and MLPerf LoadGen comes as a carried wheel (.whl/ is git-ignored). Here, once,
# from the repository root:
#
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 -d .whl mlcommons-loadgen==6.0.17
#
# then the device tool's run with carry [".whl"], timeout_s 600 and the command
#
#   sh benchmarks/gpu_session.sh            # cuda, 3 repeats
#   sh benchmarks/gpu_session.sh cpu 3      # the same on that machine's 16 dedicated cores
#   sh benchmarks/gpu_session.sh cpu 1 --quick   # here, to check the script (more options pass on)
#   BENCH=generative sh benchmarks/gpu_session.sh          # the generative core's G1-G5 instead
#   BENCH=generative sh benchmarks/gpu_session.sh cpu 1 --quick
#
# (REPEATS is serving.py's; the generative run is one pass with its comparisons paired inside,
# and on CUDA a step budget of 512 tokens, where a prefill chunk is cheap.)
# It writes serving-<device>.json/.md (or generative-<device>.json/.md) (after every repeat, so a run cut short keeps the repeats
# it finished) and the log under $OUT (or ./gpu-out); copy them to benchmarks/results/ and
# commit them with the command. Without the wheel it runs without the
# LoadGen comparison rather than not at all.
set -u
DEVICE=${1:-cuda}
REPEATS=${2:-3}
[ $# -ge 2 ] && shift 2 || shift $#
OUT=${OUT:-./gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
LOADGEN=""
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
fi
python3 -c "import mlperf_loadgen" 2>/dev/null || LOADGEN="--skip-loadgen"
{
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv 2>&1
    python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available())"
    nproc; uptime
} > "$OUT/machine.txt" 2>&1
cat "$OUT/machine.txt"
if [ "$DEVICE" = cuda ] && ! python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "no CUDA device here: nothing run" >&2
    exit 2
fi
# 540 s leaves the call's own limit (600 s) room to bring the files back.
if [ "${BENCH:-serving}" = generative ]; then
    TOKENS=""
    [ "$DEVICE" = cuda ] && TOKENS="--max-num-batched-tokens 512"
    timeout 540 python3 benchmarks/generative.py --device "$DEVICE" $TOKENS $LOADGEN "$@" \
        --out "$OUT/generative-$DEVICE" 2>&1 | tee "$OUT/generative-$DEVICE.log"
    exit 0
fi
timeout 540 python3 benchmarks/serving.py --device "$DEVICE" --repeats "$REPEATS" --skip-http $LOADGEN "$@" \
    --out "$OUT/serving-$DEVICE" 2>&1 | tee "$OUT/serving-$DEVICE.log"
