"""How the goal agent's goals fare, per log step: the share of goals reached, by where they lay at
their choice (in the agent's 7x7 view or not), with the goals' true geometry and the exploration
measures beside it. Reads runs of ``benchmarks/cpu_goal_doorkey.sh`` (``RUNS/SETTING`` folders with
``seeds/*/metrics.jsonl``); the geometry needs ``env.oracle_position=True`` (the ``counts_e50_rtf_*``
settings). Prints one table per run, seed means with [min, max] for the reach shares, and writes
them to ``--out`` as JSON.

  PYTHONPATH=src .venv/bin/python benchmarks/goal_reach.py runs/s10_kc/counts_e50_rtf_oracle \
      runs/s10_kc/counts_e50_rtf_achs --out benchmarks/results/goal_reach_s10.json

A goal's share is ``reached / (reached + abandoned)`` over the log interval (goals chosen near an
interval's end may be counted in the next); "in view" / "out of view" divide the goals reached by
those chosen, of each kind, in the interval.
"""
import argparse
import glob
import json
import os

import numpy as np

MEANS = ("goal_in_view", "goal_grid_distance", "goal_grid_distance_reached", "goal_age_reached",
         "goal_steps_ago", "goals_abandoned_at_pose_per_episode", "goals_abandoned_per_episode",
         "epsilon", "key_rate", "episode_doors", "episode_cells", "task_share", "achiever_reward")


def per_step(run: str) -> dict:
  rows = {}
  for path in sorted(glob.glob(os.path.join(run, "seeds", "*", "metrics.jsonl"))):
    for line in open(path):
      row = json.loads(line)
      rows.setdefault(row["step"], []).append(row)
  out = {}
  for step, rs in sorted(rows.items()):
    get = lambda k: np.array([np.nan if r.get(k) is None else r[k] for r in rs], float)
    shares = {"reached": get("goals_reached_per_episode") / (
        get("goals_reached_per_episode") + get("goals_abandoned_per_episode"))}
    if "goals_chosen_in_view_per_episode" in rs[0]:
      for kind in ("in_view", "out_of_view"):
        shares[kind] = (get(f"goals_reached_{kind}_per_episode")
                        / get(f"goals_chosen_{kind}_per_episode"))
    entry = {"seeds": len(rs)}
    for k, v in shares.items():
      entry[k] = [float(np.nanmean(v)), float(np.nanmin(v)), float(np.nanmax(v))]
    for k in MEANS:
      if k in rs[0]:
        entry[k] = float(np.nanmean(get(k)))
    out[step] = entry
  return out


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("runs", nargs="+")
  parser.add_argument("--out", default="")
  args = parser.parse_args()
  table = {}
  for run in args.runs:
    table[run] = per_step(run)
    print(run)
    for step, e in table[run].items():
      cells = [f"{step:>8}", f"n={e['seeds']}"]
      for k in ("reached", "in_view", "out_of_view"):
        if k in e:
          cells.append(f"{k} {e[k][0]:.3f} [{e[k][1]:.2f}, {e[k][2]:.2f}]")
      cells += [f"{k} {e[k]:.3g}" for k in MEANS if k in e]
      print("  ".join(cells))
  if args.out:
    with open(args.out, "w") as f:
      json.dump(table, f, indent=1)


if __name__ == "__main__":
  main()
