#!/usr/bin/env bash
# The GPU checks of one lent-device session, as one prepared script (the device tool runs it in
# the repository root; $OUT comes back). Never part of CI.
#   Here, first:   bash benchmarks/gpu_site.sh (makes .gpu/site.tgz: envpool with Atari and
#                  MiniGrid only, flashbax, ml-collections, tensorboardX and their needs, for
#                  CPython 3.12; the device's python3 has jax + CUDA, flax, optax, orbax, but not
#                  these, and no network).
#   Device tool:   run(command="bash benchmarks/gpu_session.sh", carry=[".gpu"])
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$OUT" /tmp/site
tar xzf .gpu/site.tgz -C /tmp/site || exit 1
export PYTHONPATH=$PWD/src:/tmp/site
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/device.txt"
python3 -c "import jax, flax, optax, chex, orbax.checkpoint, envpool, flashbax; \
print('jax', jax.__version__, 'flax', flax.__version__, 'optax', optax.__version__, jax.devices())" \
  2>&1 | tee -a "$OUT/device.txt" || exit 1
ROLLOUT=xla  # envpool's XLA step on a GPU backend: checked here, host stepping if it fails
if ! timeout 120 python3 benchmarks/throughput.py --measure raw/atari/raw --atari_steps 256 \
    > "$OUT/xla_check.log" 2>&1; then
  ROLLOUT=host; tail -5 "$OUT/xla_check.log"
fi
echo "rollout: $ROLLOUT" | tee -a "$OUT/device.txt"
timeout "${THROUGHPUT_S:-400}" python3 benchmarks/throughput.py --envs atari --atari_agents all \
  --atari_steps "${ATARI_STEPS:-24000}" --atari_replay 100000 --rollout "$ROLLOUT" \
  --timeout 150 --out "$OUT/throughput_gpu.json" 2>&1 | tee "$OUT/throughput.log"
timeout "${GROUPED_S:-60}" python3 benchmarks/grouped_conv.py --out "$OUT/grouped_conv_gpu.json" 2>&1 | tee "$OUT/grouped_conv.log"
