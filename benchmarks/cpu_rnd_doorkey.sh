#!/usr/bin/env bash
# The baselines issue's RND-DQN on DoorKey on this CPU, one setting after another (5 vmapped
# seeds, 300k env steps on DoorKey-8x8 unless a setting says otherwise; rerun to resume: each
# workdir continues where it stopped). Every setting is experiments/rnd_dqn.py:minigrid (DQN's
# :minigrid settings plus RND) with one difference at most:
#   two_heads      the default: the paper's two value heads (RESULTS.md §9)
#   bonus          agent.rnd.form=bonus (one head, beta x reward-normalised bonus in the reward)
#   two_heads_5x5  the default on DoorKey-5x5, 200k env steps
#   dqn_5x5        experiments/dqn.py:minigrid on DoorKey-5x5, 200k: the same budget, no RND
# Summarise with
#   PYTHONPATH=src .venv/bin/python benchmarks/dqn_doorkey.py --runs runs/cpu_rnd_doorkey
set -u
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs/cpu_rnd_doorkey}
run="--config.num_seeds=5 --config.log_every=10000 --config.checkpoint_every=50000"
for setting in ${SETTINGS:-two_heads}; do
  config=experiments/rnd_dqn.py:minigrid
  task="--config.env.name=MiniGrid-DoorKey-8x8-v0 --config.total_steps=300000"
  task5="--config.env.name=MiniGrid-DoorKey-5x5-v0 --config.total_steps=200000"
  case $setting in
    two_heads) extra="$task" ;;
    bonus) extra="$task --config.agent.rnd.form=bonus" ;;
    two_heads_5x5) extra="$task5" ;;
    dqn_5x5) extra="$task5"; config=experiments/dqn.py:minigrid ;;
    *) echo "unknown setting $setting"; exit 2 ;;
  esac
  mkdir -p "$RUNS/$setting"
  # shellcheck disable=SC2086
  PYTHONPATH=src .venv/bin/python -m goalrl.train --config=$config \
    --workdir="$RUNS/$setting" $run $extra > "$RUNS/$setting/train.log" 2>&1
  echo "$setting: exit $?"
done
