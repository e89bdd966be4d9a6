#!/usr/bin/env bash
# DoorKey-8x8: epsilon decayed over 20k env steps instead of 50k for the default goal agent and
# goals disabled (ten seeds each), and DQN's 3-step learner over 20k, 50k, 100k (seeds 0-4);
# DoorKey-5x5 with the goal agent over 20k. RESULTS.md §45's tables; runs: cpu_goal_doorkey.sh's
# and cpu_dqn_doorkey.sh's §45 lines (the goal agent's seeds 5-9 stopped at 70k, when every seed
# had reached 0.9). The older runs' folders come from s36_cpu.tgz and s18_cpu.tgz.
cd "$(dirname "$0")/../.."  # the repository root; runs/ holds s37_cpu.tgz and the older archives
T=benchmarks/results/doorkey8_reach_power_s35  # the default goal agent at 50k, seeds 0-4 (§43)
R=benchmarks/results/doorkey8_epsilon_s37
py() { PYTHONPATH=src:benchmarks .venv/bin/python benchmarks/pooled_seeds.py "$@"; }
G20="goal_e20=runs/s37_dk8_e20/achiever_task_q+runs/s37_dk8_e20_s5/achiever_task_q"
Z20="goals_disabled_e20=runs/s37_dk8_e20/achiever_zero+runs/s37_dk8_e20_s5/achiever_zero"
Z50="goals_disabled_e50=runs/s36_dk8_zero/achiever_zero+runs/s36_dk8_zero_s5/achiever_zero"
G50=runs/s36_dk8_reach_s5/achiever_task_q  # seeds 5-9 of the goal agent at 50k (§44)
py --budget 100000 --at 100000 --setting "$G20" --setting "$Z20" \
  --setting "goal_e50=$T.json:fading+$G50" --setting "$Z50" --out ${R}_ten_seeds.json
py --budget 100000 --at 50000 --window 50000 --per_episode --metric success_rate --setting "$G20" \
  --setting "$Z20" --setting "goal_e50=${T}_0k_50k_success_rate.json:fading+$G50" \
  --setting "$Z50" --out ${R}_ten_seeds_0k_50k_success_rate.json
py --budget 100000 --at 50000 --window 30000 --per_episode --metric episode_doors \
  --setting "$G20" --setting "$Z20" --setting "$Z50" --out ${R}_ten_seeds_20k_50k_episode_doors.json
py --budget 100000 --at 100000 --setting goal_e20=runs/s37_dk8_e20/achiever_task_q \
  --setting goals_disabled_e20=runs/s37_dk8_e20/achiever_zero \
  --setting dqn_n3_e20=runs/s37_dk8_dqn/act5_e20_n3 \
  --setting dqn_n3_e50=runs/s37_dk8_dqn/act5_e50_n3 \
  --setting dqn_n3_e100=runs/s18_dk8/act5_e100_n3 --out ${R}_dqn.json
py --budget 40000 --at 20000 --setting goal_e20=runs/s37_dk5_e20/achiever_task_q \
  --out benchmarks/results/doorkey5_epsilon_s37.json
