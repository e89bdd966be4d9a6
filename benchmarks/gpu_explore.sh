#!/usr/bin/env bash
# The exploration benchmark's runs on a lent GPU (same configs, seeds and budgets as on the CPU;
# the device has no rliable, so only the runs happen there). Brings back every run's
# metrics.jsonl and config.json as $OUT/exploration_runs.tgz; summarise here with
#   tar xzf exploration_runs.tgz -C runs/ && make explore-summary
# Device tool: run(command="bash benchmarks/gpu_explore.sh", carry=[".gpu"]); see gpu_session.sh.
# E.g. the baselines' 1M table rows still missing: TASKS=MultiRoom-N4-S5,KeyCorridorS3R3
# STEPS=1000000 AGENTS=rnd_dqn; summarise here with exploration.py --steps 1000000 --merge
# --summary_only --runs runs/exploration --out benchmarks/results/exploration_1m.
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$OUT" /tmp/site /tmp/runs
tar xzf .gpu/site.tgz -C /tmp/site || exit 1
export PYTHONPATH=$PWD/src:/tmp/site
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$OUT/device.txt"
timeout "${EXPLORE_S:-450}" python3 benchmarks/exploration.py --runs /tmp/runs/exploration \
  --tasks "${TASKS:-MultiRoom-N4-S5,KeyCorridorS3R3,DoorKey-8x8}" --steps "${STEPS:-100000}" \
  --agents "${AGENTS:-dqn,rnd_dqn,optimistic_dqn,goal_progress,goal_reach}" \
  --seeds 5 --out "$OUT" 2>&1 | grep -v "^WARNING" | tee "$OUT/explore.log"
cd /tmp/runs && find exploration \( -name metrics.jsonl -o -name config.json -o -name train.log \) \
  -print0 | tar czf "$OUT/exploration_runs.tgz" --null -T -
ls -la "$OUT"
