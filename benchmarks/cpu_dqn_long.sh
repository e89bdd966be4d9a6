#!/usr/bin/env bash
# The speed issue's long-run check on this CPU: experiments/dqn.py:long (DoorKey-8x8, 32 envs,
# 2 updates of 64 per 32 env steps), 5 vmapped seeds x 2M env steps, timed, then summarised by
# benchmarks/exploration.py (steps to 90% success, final success, per-episode metrics, curves)
# into benchmarks/results/dqn_long_cpu/. Rerun to resume: the run continues where it stopped.
# Measured 2026-11-30 (2 CPU cores, nothing else running): 15 min 28 s for the whole command.
set -eu
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs/dqn_long}
dir="$RUNS/DoorKey-8x8/dqn/base"  # the layout exploration.py reads
mkdir -p "$dir"
start=$(date +%s)
.venv/bin/python -m goalrl.train --config=experiments/dqn.py:long --workdir="$dir" \
  --config.num_seeds=5 > "$dir/train.log" 2>&1
echo "train: $(( $(date +%s) - start )) s"
.venv/bin/python benchmarks/exploration.py --variant long --steps 2000000 --log_every 20000 \
  --tasks DoorKey-8x8 --agents dqn --runs "$RUNS" --out benchmarks/results/dqn_long_cpu \
  --summary_only
