"""Steps to 0.9 success over seeds pooled from several runs of one setting, and every pair of
settings compared (the exploration issue's DoorKey-8x8 line, with more than one batch of 5 seeds).

  PYTHONPATH=src .venv/bin/python benchmarks/pooled_seeds.py --budget 200000 --at 100000 \
      --setting opiq=runs/e50_s5/obs_opiq_e50+runs/s7_seeds5/obs_opiq_e50 \
      --setting dqn=runs/dqn8_s3/act5_e100+runs/s7_seeds5/act5_e100 [--out results.json]

Each ``--setting NAME=DIR[+DIR...]`` names run folders (``config.json``, ``seeds/<seed>/
metrics.jsonl``) whose seeds are pooled: one batch ran ``--config.seed=0`` (seeds 0-4), another
``--config.seed=5`` (5-9); a seed that appears twice is an error. A part may instead be
``TABLE.json:NAME``, a setting of a table this script wrote (``--out``), for runs whose metrics are
gone and whose table holds every seed's values: its seeds join as they stand there, so the table
must have been made with this call's ``--budget``, ``--at``, ``--window``, ``--per_episode`` and
``--metric`` (else an error says which differs). Per setting:

* **reached**: seeds that reach 0.9 by ``--budget`` (``exploration.steps_to``'s rule: the first log
  row with success >= 0.9 over at least ``MIN_EPISODES`` episodes; rows after the budget unread);
* **steps to 0.9**: IQM [95% stratified-bootstrap CI] over seeds, a seed that never reaches it
  counting as the budget (``exploration.interval``, rliable);
* **success @at**: mean over seeds of each seed's mean success over its rows from ``at`` - 10k to
  ``at`` (``dqn_doorkey.WINDOW``; ``--window`` widens it); ``--metric key_rate`` (or any logged key:
  ``episode_doors``, ``episode_cells``) compares that key instead, for tasks no setting solves yet.
  ``--per_episode`` weights each row by its finished episodes, so that a window is the mean over
  its episodes, not over its rows: where episodes are long (DoorKey-16x16: 2,560 steps) a row holds
  a handful, and its short, successful episodes would otherwise weigh like a row of many.

Then, for every pair (X, Y): P(X sooner), the probability that a seed of X reaches 0.9 before a
seed of Y (ties half), and P(X higher @at) on success (``exploration.improvement``, rliable).
"""
from __future__ import annotations

import argparse
import glob
import json
import os

import numpy as np

from dqn_doorkey import WINDOW, mean_success
from exploration import THRESHOLD, improvement, interval, steps_to
from goalrl import metrics


def pooled(dirs: list[str]) -> dict[int, list[dict]]:
  """{seed: rows} over the run folders ``dirs``."""
  out = {}
  for d in dirs:
    for path in glob.glob(os.path.join(d, "seeds", "*", "metrics.jsonl")):
      seed = int(os.path.basename(os.path.dirname(path)))
      if seed in out:
        raise SystemExit(f"seed {seed} appears twice in {'+'.join(dirs)}")
      out[seed] = metrics.read_rows(path)
  if not out:
    raise SystemExit(f"no seeds/*/metrics.jsonl under {'+'.join(dirs)}")
  return dict(sorted(out.items()))


def success_at(rows: list[dict], at: int, key: str = "success_rate", window: int = WINDOW,
               per_episode: bool = False) -> float:
  """Mean ``key`` (success) over the rows from ``at - window`` to ``at`` (by default
  ``dqn_doorkey``'s window); with ``per_episode``, each row weighted by its ``episodes``."""
  rows = [r for r in rows if at - window <= r["step"] <= at]
  if per_episode:
    rows = [r for r in rows if r.get(key) is not None and r.get("episodes", 0) > 0]
    weights = [r["episodes"] for r in rows]
    return float(np.average([r[key] for r in rows], weights=weights)) if rows else float("nan")
  value = mean_success(rows, key)
  return float("nan") if value is None else value


def from_table(spec: str, budget: int, at: int, key: str = "success_rate", window: int = WINDOW,
               per_episode: bool = False) -> dict:
  """The per-seed values of setting ``NAME`` in ``TABLE.json`` (``spec`` = ``TABLE.json:NAME``),
  refused unless the table was made with the same budget, ``at``, window, weighting and metric."""
  path, name = spec.rsplit(":", 1)
  with open(path) as f:
    table = json.load(f)
  want = {"budget": budget, "at": at, "window": window, "per_episode": per_episode,
          "metric": key}
  have = {**{k: table.get(k) for k in want}, "metric": table.get("metric", "success_rate")}
  differ = {k: (have[k], want[k]) for k in want if have[k] != want[k]}
  if differ:
    raise SystemExit(f"{path} was made with other settings than this call's: "
                     + ", ".join(f"{k} {a} there, {b} here" for k, (a, b) in differ.items())
                     + "; its seeds' values cannot join this call's. Give the same --budget, "
                     "--at, --window, --per_episode and --metric, or the runs' folders.")
  if name not in table["settings"]:
    raise SystemExit(f"{path} has no setting {name!r}; it has {sorted(table['settings'])}")
  s = table["settings"][name]
  return {k: s[k] for k in ("seeds", "last_step", "steps_to_90", "reached", "success_at")}


def summarise(seeds: dict[int, list[dict]], budget: int, at: int, reps: int,
              key: str = "success_rate", window: int = WINDOW,
              per_episode: bool = False, tables: tuple[dict, ...] = ()) -> dict:
  """One setting over the seeds' rows and the seeds of ``tables`` (:func:`from_table`)."""
  first = [steps_to([r for r in rows if r["step"] <= budget], THRESHOLD) for rows in seeds.values()]
  parts = list(tables)
  if seeds:
    parts.append({"seeds": list(seeds), "steps_to_90": [budget if s is None else s for s in first],
                  "reached": sum(s is not None for s in first),
                  "success_at": [success_at(rows, at, key, window, per_episode)
                                 for rows in seeds.values()],
                  "last_step": min(rows[-1]["step"] for rows in seeds.values())})
  # (seed, steps to 0.9, success @at) over every part, in the order of the seeds
  values = sorted(v for part in parts
                  for v in zip(part["seeds"], part["steps_to_90"], part["success_at"]))
  every = [v[0] for v in values]
  if len(set(every)) < len(every):
    raise SystemExit(f"a seed appears twice among the parts of one setting: {every}")
  steps, success = [v[1] for v in values], [v[2] for v in values]
  return {"seeds": every, "last_step": min(part["last_step"] for part in parts),
          "steps_to_90": steps, "reached": sum(part["reached"] for part in parts),
          "steps_iqm": interval(steps, reps), "success_at": success,
          "success_at_mean": float(np.mean(success))}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--setting", action="append", required=True,
                      help="NAME=PART[+PART...]: run folders (or TABLE.json:NAME, a setting "
                      "of a table this script wrote) whose seeds are pooled.")
  parser.add_argument("--budget", type=int, default=200_000)
  parser.add_argument("--at", type=int, default=100_000)
  parser.add_argument("--reps", type=int, default=2000)
  parser.add_argument("--metric", default="success_rate",
                      help="the logged key compared @at (success_rate; key_rate, episode_doors...)")
  parser.add_argument("--window", type=int, default=WINDOW,
                      help="the rows from --at minus this many env steps to --at are averaged")
  parser.add_argument("--per_episode", action="store_true",
                      help="weight each row of the window by its finished episodes")
  parser.add_argument("--out", default=None)
  args = parser.parse_args()
  table = {}
  for spec in args.setting:
    name, parts = spec.split("=", 1)
    parts = parts.split("+")
    dirs = [p for p in parts if ".json:" not in p]
    tables = tuple(from_table(p, args.budget, args.at, args.metric, args.window, args.per_episode)
                   for p in parts if ".json:" in p)
    table[name] = summarise(pooled(dirs) if dirs else {}, args.budget, args.at, args.reps,
                            args.metric, args.window, args.per_episode, tables)
  k = args.at // 1000
  label = "success" if args.metric == "success_rate" else args.metric
  print(f"| setting | seeds | ran to | reached 0.9 by {args.budget // 1000}k | steps to 0.9 "
        f"(per seed) | IQM [95% CI] | {label} @{k}k |\n|---|---|---|---|---|---|---|")
  for name, s in table.items():
    iqm, low, high = (v / 1000 for v in (s["steps_iqm"]["iqm"], *s["steps_iqm"]["ci95"]))
    print(f"| {name} | {len(s['seeds'])} | {s['last_step'] // 1000}k | {s['reached']}/"
          f"{len(s['seeds'])} | {', '.join(f'{x // 1000}k' for x in sorted(s['steps_to_90']))} | "
          f"{iqm:.0f}k [{low:.0f}k, {high:.0f}k] | {s['success_at_mean']:.2f} |")
  pairs = {}
  names = list(table)
  for i, x in enumerate(names):
    for y in names[i + 1:]:
      sooner = improvement([-v for v in table[x]["steps_to_90"]],
                           [-v for v in table[y]["steps_to_90"]], args.reps)
      higher = improvement(table[x]["success_at"], table[y]["success_at"], args.reps)
      pairs[f"{x} vs {y}"] = {"p_sooner": sooner, f"p_higher_at_{k}k": higher}
      print(f"{x} vs {y}: P(sooner) {sooner['p']:.2f} [{sooner['ci95'][0]:.2f}, "
            f"{sooner['ci95'][1]:.2f}]; P(higher {label} @{k}k) {higher['p']:.2f} "
            f"[{higher['ci95'][0]:.2f}, {higher['ci95'][1]:.2f}]")
  if args.out:
    with open(args.out, "w") as f:
      json.dump({"budget": args.budget, "at": args.at, "window": args.window,
                 "per_episode": args.per_episode, **(
          {} if args.metric == "success_rate" else {"metric": args.metric}),
                 "settings": table, "pairs": pairs}, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
