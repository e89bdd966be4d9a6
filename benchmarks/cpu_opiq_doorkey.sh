#!/usr/bin/env bash
# The exploration issue's first measurement of count-based optimism (OPIQ, goalrl/counts.py) on
# this CPU, one setting after another (5 vmapped seeds, DoorKey-8x8, 300k env steps; rerun to
# resume). Every setting is experiments/optimistic_dqn.py:minigrid with one difference group:
#   synthetic   the note's optimism as shipped (10% synthetic rows, reward 0.5): the reference
#   opiq        action_coef 0.1, bootstrap_coef 0.01 (OPIQ's Montezuma values), no synthetic rows
#   opiq_big    action_coef 1.0, bootstrap_coef 0.1: MiniGrid rewards are ~1, not Atari's clipped 1s
#   opiq_act    action_coef 0.1 alone (optimistic acting, plain targets)
# Compare with DQN's row of benchmarks/results/exploration_1m (steps to 0.9 within 300k) and
# summarise with
#   PYTHONPATH=src .venv/bin/python benchmarks/dqn_doorkey.py --runs runs/cpu_opiq_doorkey
# Measured: nothing yet (built 2026-11-30; the CPU went to the baselines' 1M table that session).
set -u
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs/cpu_opiq_doorkey}
run="--config.num_seeds=5 --config.log_every=10000 --config.checkpoint_every=50000
  --config.env.name=MiniGrid-DoorKey-8x8-v0 --config.total_steps=300000"
opt=--config.agent.optimism
for setting in ${SETTINGS:-synthetic opiq opiq_big opiq_act}; do
  case $setting in
    synthetic) extra="" ;;
    opiq) extra="$opt.ratio=0.0 $opt.action_coef=0.1 $opt.bootstrap_coef=0.01" ;;
    opiq_big) extra="$opt.ratio=0.0 $opt.action_coef=1.0 $opt.bootstrap_coef=0.1" ;;
    opiq_act) extra="$opt.ratio=0.0 $opt.action_coef=0.1" ;;
    *) echo "unknown setting $setting"; exit 2 ;;
  esac
  mkdir -p "$RUNS/$setting"
  # shellcheck disable=SC2086
  PYTHONPATH=src .venv/bin/python -m goalrl.train --config=experiments/optimistic_dqn.py:minigrid \
    --workdir="$RUNS/$setting" $run $extra > "$RUNS/$setting/train.log" 2>&1
  echo "$setting: exit $?"
done
