#!/usr/bin/env bash
# The hard-task tables of RESULTS.md §13 and §14: each run folder against §3's DQN and RND-DQN at
# equal env steps, for success and the three per-episode exploration metrics, with P(X > Y) (rliable), one
# JSON per (table, metric) in benchmarks/results/hard_s4/. The runs' metrics are in
# benchmarks/results/hard_cpu_s4.tgz and hard_cpu_s5.tgz (`mkdir -p runs && tar xzf
# benchmarks/results/hard_cpu_s4.tgz -C runs`, then the same for s5, which holds the newer copies
# of the runs both have, to rerun this from them; the GPU runs of 2026-12-01, benchmarks/gpu_hard.sh,
# are in benchmarks/results/hard_gpu_s6.tgz, extracted the same way):
#   bash benchmarks/hard_tables.sh            (ONLY="kc_goal_counts ..." makes those rows alone)
set -eu
cd "$(dirname "$0")/.."
REF=benchmarks/results/exploration_1m/exploration.json
# §3's DQN extended to 2M on KeyCorridorS3R3 (RESULTS §14; its RND-DQN stays at 1M)
REF2=benchmarks/results/exploration_kc_2m/exploration.json
OUT=benchmarks/results/hard_s4
mkdir -p "$OUT"
# name runs task at reference (§13's rows, then §14's; run folders of §14: runs/goal_kc_s5,
# runs/epi_mr_s5, and runs/exploration_1m's KeyCorridorS3R3/dqn extended to 2M; §15's: runs/gpu_hard;
# §16's: runs/s7_kc, in benchmarks/results/s7_cpu.tgz; §18's: runs/s9_kc, in s9_cpu.tgz)
tables="kc_1m runs/opiq_kc_s3 KeyCorridorS3R3 1000000 $REF
kc_last runs/opiq_kc_s3 KeyCorridorS3R3 ${KC_LAST:-2000000} $REF
kc_goal runs/goal_kc_s4,runs/opiq_kc_s3 KeyCorridorS3R3 150000 $REF
kc_epi runs/epi_kc_s4,runs/opiq_kc_s3 KeyCorridorS3R3 ${KC_EPI:-740000} $REF
kc_epi_last runs/epi_kc_s4,runs/opiq_kc_s3 KeyCorridorS3R3 ${KC_EPI_LAST:-1250000} $REF
mr_epi runs/epi_mr_s4,runs/opiq_mr_s3 MultiRoom-N4-S5 ${MR_EPI:-400000} $REF
mr_epi_last runs/epi_mr_s4,runs/opiq_mr_s3 MultiRoom-N4-S5 ${MR_LAST:-630000} $REF
kc_2m runs/opiq_kc_s3 KeyCorridorS3R3 2000000 $REF2
mr_1m runs/epi_mr_s4,runs/opiq_mr_s3 MultiRoom-N4-S5 ${MR_1M:-1000000} $REF
mr_opiq_epi runs/epi_mr_s5,runs/epi_mr_s4,runs/opiq_mr_s3 MultiRoom-N4-S5 ${MR_OPIQ_EPI:-400000} $REF
kc_goal_episode runs/goal_kc_s5,runs/goal_kc_s4,runs/opiq_kc_s3 KeyCorridorS3R3 ${KC_GOAL:-150000} $REF
kc_gpu_1m runs/gpu_hard/goal_kc,runs/gpu_hard/opiq_kc,runs/opiq_kc_s3 KeyCorridorS3R3 1000000 $REF
mr_gpu_1m runs/gpu_hard/goal_mr,runs/gpu_hard/opiq_mr,runs/epi_mr_s5,runs/epi_mr_s4,runs/opiq_mr_s3 MultiRoom-N4-S5 1000000 $REF
kc_goal_counts runs/s7_kc,runs/gpu_hard/opiq_kc,runs/goal_kc_s5 KeyCorridorS3R3 150000 $REF
kc_rte_s9 runs/s9_kc,runs/s7_kc KeyCorridorS3R3 60000 $REF"
echo "$tables" | while read -r name runs task at ref; do
  [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]] && continue
  for metric in success key_rate episode_doors episode_cells; do
    [ "$metric" = key_rate ] && [ "$task" != KeyCorridorS3R3 ] && continue
    flag=$([ "$metric" = success ] && echo "" || echo "--metric $metric")
    # shellcheck disable=SC2086
    PYTHONPATH=src .venv/bin/python benchmarks/dqn_doorkey.py --runs "$runs" --reference "$ref" \
      --task "$task" --at "$at" $flag --out "$OUT/${name}_$metric.json" | grep "P(X" || true
  done
done
