#!/usr/bin/env bash
# MultiRoom-N4-S5: the default goal agent (failing goals fading since §43), rerun today to AT, against
# §39's default on the H200 (before fading), §42's fading run (s34, to 90k) and optimistic DQN.
# RESULTS.md §44's tables: this script as it stands (50k-90k), then with AT=50000 W=50000 TAG=0k_50k.
cd "$(dirname "$0")/../.."
AT=${AT:-90000}; W=${W:-40000}; TAG=${TAG:-50k_90k}
for m in episode_doors episode_cells success_rate goals_reached_per_episode; do
  PYTHONPATH=src:benchmarks .venv/bin/python benchmarks/pooled_seeds.py --budget 1000000 --at $AT \
    --window $W --per_episode --metric $m \
    --setting goal_fading=runs/s36_mr_reach/goal_reach \
    --setting goal_fading_s34=runs/s34_mr_reach/goal_reach \
    --setting goal_default_h200=runs/s31_gpu/exploration/MultiRoom-N4-S5/goal_reach/base \
    --setting optimistic_dqn_n3=runs/s19_mr_n3/obs_opiq_e50 \
    --setting episodic_n3=runs/s19_mr_n3/obs_epi \
    --out benchmarks/results/multiroom_reach_power_s36_${TAG}_${m}.json
done
