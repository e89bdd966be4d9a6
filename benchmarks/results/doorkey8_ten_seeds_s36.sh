#!/usr/bin/env bash
# DoorKey-8x8 ten seeds: failing goals fading (s35's table for seeds 0-4 + s36 5-9) against goals
# disabled run today (s36, seeds 0-9), §28's goals disabled (s19, seeds 0-4) and §41's default.
cd "$(dirname "$0")/../.."  # the repository root; runs/ holds s36_cpu.tgz and the older archives
T=benchmarks/results/doorkey8_reach_power_s35
F="fading=$T.json:fading+runs/s36_dk8_reach_s5/achiever_task_q"
Z="goals_disabled=runs/s36_dk8_zero/achiever_zero+runs/s36_dk8_zero_s5/achiever_zero"
D="default=runs/s29_dk8_sit_q/achiever_task_q+runs/s33_dk8_sit_s5/achiever_task_q"
O="goals_disabled_s19=runs/s19_goal8_n3/achiever_zero"
py() { PYTHONPATH=src:benchmarks .venv/bin/python benchmarks/pooled_seeds.py "$@"; }
R=benchmarks/results/doorkey8_ten_seeds_s36
py --budget 100000 --at 100000 --setting "$F" --setting "$Z" --setting "$D" --setting "$O" --out $R.json
for w in "0k_50k 50000" "50k_100k 100000"; do set -- $w
  for m in success_rate key_rate; do
    Fw="fading=${T}_${1}_${m}.json:fading+runs/s36_dk8_reach_s5/achiever_task_q"
    py --budget 100000 --at $2 --window 50000 --per_episode --metric $m --setting "$Fw" \
      --setting "$Z" --setting "$D" --setting "$O" --out ${R}_${1}_${m}.json
  done
done
