#!/usr/bin/env bash
# DoorKey-8x8, seeds 0-4: epsilon decayed over 20k env steps instead of 50k, for the default goal
# agent, goals disabled and DQN's 3-step learner, against each one's runs at its own schedule.
# RESULTS.md §45's tables. Runs: cpu_goal_doorkey.sh's §45 lines, cpu_dqn_doorkey.sh's §45 line.
cd "$(dirname "$0")/../.."  # the repository root; runs/ holds s37_cpu.tgz and the older archives
T=benchmarks/results/doorkey8_reach_power_s35  # the default goal agent at 50k, seeds 0-4 (§43)
R=benchmarks/results/doorkey8_epsilon_s37
py() { PYTHONPATH=src:benchmarks .venv/bin/python benchmarks/pooled_seeds.py "$@"; }
set -- --setting goal_e20=runs/s37_dk8_e20/achiever_task_q \
  --setting goals_disabled_e20=runs/s37_dk8_e20/achiever_zero \
  --setting goals_disabled_e50=runs/s36_dk8_zero/achiever_zero \
  --setting dqn_n3_e20=runs/s37_dk8_dqn/act5_e20_n3 \
  --setting dqn_n3_e50=runs/s37_dk8_dqn/act5_e50_n3 \
  --setting dqn_n3_e100=runs/s18_dk8/act5_e100_n3
py --budget 100000 --at 100000 --setting "goal_e50=$T.json:fading" "$@" --out $R.json
for w in "0k_50k 50000" "50k_100k 100000"; do set -- $w
  py --budget 100000 --at $2 --window 50000 --per_episode --metric success_rate \
    --setting "goal_e50=${T}_${1}_success_rate.json:fading" \
    --setting goal_e20=runs/s37_dk8_e20/achiever_task_q \
    --setting goals_disabled_e20=runs/s37_dk8_e20/achiever_zero \
    --setting goals_disabled_e50=runs/s36_dk8_zero/achiever_zero --out ${R}_${1}_success_rate.json
done
