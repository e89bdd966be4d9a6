#!/usr/bin/env bash
# Wall-clock knobs of MiniGrid DQN on this machine: env steps/s of 5 vmapped seeds on DoorKey-8x8
# for envs per seed x updates per iteration (batch 64 each), 60k env steps per seed, the median
# perf/sps of the three log intervals (the first holds the compile). Learning at 32 envs x 2
# updates: benchmarks/cpu_dqn_long.sh. Usage: benchmarks/envs_updates_sps.sh [ENVS:UPDATES ...]
set -eu
cd "$(dirname "$0")/.."
settings=${*:-8:2 16:2 32:2 32:4}
printf "%-5s %-8s %-12s %s\n" envs updates "updates/step" "env steps/s (5 seeds, per interval)"
for v in $settings; do
  e=${v%%:*}; u=${v##*:}; w=$(mktemp -d)
  .venv/bin/python -m goalrl.train --config=experiments/dqn.py:minigrid --workdir="$w" \
    --config.env.name=MiniGrid-DoorKey-8x8-v0 --config.num_seeds=5 --config.total_steps=60000 \
    --config.log_every=20000 --config.checkpoint_every=60000 --config.env.num_envs="$e" \
    --config.agent.updates_per_train="$u" --config.pictures=False > "$w/train.log" 2>&1
  sps=$(.venv/bin/python -c "
import json; rows = [json.loads(l) for l in open('$w/seeds/0/metrics.jsonl')]
print(' '.join(str(round(r['perf/sps'])) for r in rows))")
  printf "%-5s %-8s %-12s %s\n" "$e" "$u" "1/$(( e / u ))" "$sps"
  rm -rf "$w"
done
