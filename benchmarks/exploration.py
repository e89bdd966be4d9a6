"""Exploration: every agent on hard-exploration MiniGrid tasks, equal env-step budgets, 5 seeds.

  make explore     (or: .venv/bin/python benchmarks/exploration.py [--steps 300000] [--seeds 5]
                    [--tasks DoorKey-8x8,...] [--agents dqn,...] [--summary_only])

The question goalrl exists for: does optimism, alone (optimistic DQN) or through self-set goals
(goal agent, both actor variants), find sparse rewards that epsilon-greedy DQN misses, and how
does it compare with RND? Every (task, agent) pair is one ``goalrl.sweep`` setting: the agent's
``:minigrid`` config (or ``--variant``'s) with ``env.name`` and ``total_steps`` overridden and
nothing else tuned, its seeds vmapped in one program, run in ``runs/exploration/<task>/<agent>/``
(``--runs``) (finished runs are skipped, killed ones resume, so rerunning the command only does
what is missing).

Reported per task and agent, over seeds (IQM with 95% stratified-bootstrap intervals, rliable):

* **steps to 90% success**: the first logged env step at which ``success_rate`` (the fraction of
  episodes ending in the log interval that reached the goal) is >= 0.9 over at least
  ``MIN_EPISODES`` episodes of that interval. A seed that never gets
  there counts as the budget, so with some seeds short of it the interval is a lower bound (shown
  with ">="), and with most of them short it is "not reached"; ``reached`` says how many seeds did;
* **final success**: mean ``success_rate`` over the last 10% of log rows;
* **final coverage**: distinct grid cells visited by then (``coverage``, all envs of a seed);
* **per-episode exploration** (``EPISODE_METRICS``), over the last 10% of log rows: distinct
  cells visited per episode (``episode_cells``: where every episode draws a new layout, run-wide
  coverage saturates and this does not), the fraction of episodes in which the agent carried a key
  (``key_rate``) and the distinct doors it opened per episode (``episode_doors``; on MultiRoom,
  whose rooms are a chain, the rooms reached beyond the first, or one fewer).

``--merge`` keeps the entries of an earlier ``exploration.json`` in ``--out`` that these runs do
not produce, so a table can grow over sessions that do not keep their run directories.

Writes ``benchmarks/results/exploration.json``, ``exploration_curves.png`` (success rate and each
per-episode metric, mean over seeds with the min..max band, one column per task) and
``exploration_intervals.png`` (final values: IQM and 95% CI).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import warnings

import numpy as np

from goalrl import metrics, sweep

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
TASKS = ("DoorKey-8x8", "MultiRoom-N4-S5", "KeyCorridorS3R3")
# name -> (experiment file[:own variant], overrides): each agent's :minigrid config, untuned for
# these tasks. The goal agent's default (since 2026-12-01: goals pursued by an achiever, reached by
# cell) is "reach" only, so ``goal_progress`` starts from ``:archive``, the default before it (and
# the one RESULTS.md §3-§15 ran as both goal rows).
AGENTS = {
    "dqn": ("dqn.py", {}),
    "rnd_dqn": ("rnd_dqn.py", {}),
    "optimistic_dqn": ("optimistic_dqn.py", {}),
    "goal_progress": ("goal_agent.py:archive", {"agent.variant": "progress"}),
    "goal_reach": ("goal_agent.py", {"agent.variant": "reach"}),
}
THRESHOLD = 0.9
# A log row counts toward "steps to 90%" only if this many episodes ended in it: early rows of an
# 8x8 grid can hold one lucky random episode (measured: success_rate 1.0 from 1 episode at 10k).
MIN_EPISODES = 10
# Per-episode exploration metrics of the loop: row key -> (result name, table header, format).
# Runs logged before a metric existed summarise with it as None and leave it out.
EPISODE_METRICS = {"episode_cells": ("cells", "cells/episode", ".1f"),
                   "key_rate": ("key", "key carried", ".2f"),
                   "episode_doors": ("doors", "doors/episode", ".2f")}


def plan_runs(task: str, agent: str, steps: int, seeds: int, log_every: int,
              runs_dir: str, variant: str = "minigrid") -> tuple[str, dict]:
  path, overrides = AGENTS[agent]
  path, _, own = path.partition(":")  # an agent's own variant stands in for the default one
  config_arg = os.path.join(ROOT, "experiments", path) + ":" + (
      own if own and variant == "minigrid" else variant)
  spec = {"grid": {}, "seeds": seeds, "first_seed": 0,
          "overrides": {"env.name": f"MiniGrid-{task}-v0", "total_steps": steps,
                        "log_every": log_every,
                        "checkpoint_every": max(steps // 4 // log_every, 1) * log_every,
                        **overrides}}
  runs = sweep.plan(config_arg, spec, os.path.join(runs_dir, task, agent), vmap_seeds=True)
  return config_arg, runs[0]


def steps_to(rows: list[dict], threshold: float) -> int | None:
  for row in rows:
    if (row.get("success_rate") is not None and row["success_rate"] >= threshold
        and row["episodes"] >= MIN_EPISODES):
      return int(row["step"])
  return None


def _tail_mean(tail: list[dict], key: str) -> float | None:
  values = [r[key] for r in tail if r.get(key) is not None]
  return float(np.mean(values)) if values else None


def seed_result(rows: list[dict]) -> dict:
  final, _ = sweep.seed_scores(rows, "success_rate")
  tail = rows[-max(1, len(rows) // 10):]
  return {"steps_to_90": steps_to(rows, THRESHOLD), "final_success": final,
          "final_coverage": float(np.mean([r["coverage"] for r in tail])),
          # per-episode exploration (runs from before a metric lack it: None)
          **{f"final_{k}": _tail_mean(tail, k) for k in EPISODE_METRICS},
          "sps": float(np.median([r["perf/sps"] for r in rows[1:]] or [rows[0]["perf/sps"]])),
          # rows of fewer than MIN_EPISODES episodes are not plotted either (one lucky episode)
          "curve": [[int(r["step"]), r.get("success_rate") if r["episodes"] >= MIN_EPISODES
                     else None] for r in rows],
          # the exploration signals beside success (None: no episode ended in the interval, or a
          # run from before the metric)
          **{f"{name}_curve": [[int(r["step"]), r.get(k)] for r in rows]
             for k, (name, _, _) in EPISODE_METRICS.items()}}


def interval(values, reps: int) -> dict:
  from rliable import library as rly
  from rliable import metrics as rly_metrics
  data = {"x": np.asarray(values, float)[:, None]}
  # rliable 1.2's StratifiedBootstrap draws its indices from numpy's global RNG whatever
  # random_state says, so the global RNG is seeded here (and restored) for reproducible intervals.
  saved = np.random.get_state()
  np.random.seed(0)
  try:
    points, intervals = rly.get_interval_estimates(
        data, lambda s: np.array([rly_metrics.aggregate_iqm(s)]), reps=reps,
        random_state=np.random.RandomState(0))
  finally:
    np.random.set_state(saved)
  return {"iqm": float(points["x"][0]), "ci95": [float(intervals["x"][0, 0]),
                                                 float(intervals["x"][1, 0])]}


def improvement(x, y, reps: int) -> dict:
  """P(X > Y): the probability that a seed of setting ``x`` scores above a seed of ``y`` (ties
  count half; rliable's ``probability_of_improvement`` on one task), with its 95%
  stratified-bootstrap interval, seeded as :func:`interval`."""
  from rliable import library as rly
  from rliable import metrics as rly_metrics
  data = {"x,y": (np.asarray(x, float)[:, None], np.asarray(y, float)[:, None])}
  saved = np.random.get_state()
  np.random.seed(0)
  try:
    points, intervals = rly.get_interval_estimates(
        data, rly_metrics.probability_of_improvement, reps=reps,
        random_state=np.random.RandomState(0))
  finally:
    np.random.set_state(saved)
  low, high = np.ravel(intervals["x,y"])
  return {"p": float(np.ravel(points["x,y"])[0]), "ci95": [float(low), float(high)]}


def summarise(results: dict, steps: int, reps: int) -> dict:
  """Per task and agent: the three IQM intervals, from the per-seed results."""
  for task, agents in results.items():
    for agent, entry in agents.items():
      seeds = entry["seeds"]
      reached = [s["steps_to_90"] for s in seeds if s["steps_to_90"] is not None]
      entry["reached"] = len(reached)
      censored = [s["steps_to_90"] if s["steps_to_90"] is not None else steps for s in seeds]
      entry["steps_to_90"] = interval(censored, reps)
      # IQM drops the lowest and highest quarter: if more than that never reached, the IQM sits
      # on censored values and is a lower bound; if its interval reaches the budget: not reached.
      entry["steps_to_90"]["lower_bound"] = len(reached) < len(seeds)
      entry["final_success"] = interval([s["final_success"] for s in seeds], reps)
      entry["final_coverage"] = interval([s["final_coverage"] for s in seeds], reps)
      for k in EPISODE_METRICS:
        values = [s.get(f"final_{k}") for s in seeds]
        entry[f"final_{k}"] = (interval(values, reps) if all(v is not None for v in values)
                               else None)
      entry["sps"] = float(np.median([s["sps"] for s in seeds]))
  return results


def fmt_steps(entry: dict, steps: int) -> str:
  s = entry["steps_to_90"]
  if entry["reached"] == 0 or s["iqm"] >= steps:
    return "not reached"
  prefix = ">=" if s["lower_bound"] else ""
  return f"{prefix}{s['iqm'] / 1e3:.0f}k [{s['ci95'][0] / 1e3:.0f}k, {s['ci95'][1] / 1e3:.0f}k]"


def table(results: dict, steps: int, seeds: int) -> str:
  iv = lambda s, f: f"{s['iqm']:{f}} [{s['ci95'][0]:{f}}, {s['ci95'][1]:{f}}]"
  header = (f"{'task':<16} {'agent':<15} {'reached':>7}  {'steps to 90% IQM [95% CI]':<26} "
            f"{'final success':<22} {'final coverage':<22} "
            + "".join(f"{h:<22} " for _, h, _ in EPISODE_METRICS.values()) + f"{'sps':>6}")
  lines = [f"{seeds} seeds x {steps:,} env steps each; IQM [95% bootstrap CI] over seeds",
           header, "-" * len(header)]
  for task, agents in results.items():
    for agent, e in agents.items():
      episode = "".join(
          f"{iv(e[f'final_{k}'], f) if e.get(f'final_{k}') else '-':<22} "
          for k, (_, _, f) in EPISODE_METRICS.items())
      lines.append(f"{task:<16} {agent:<15} {e['reached']:>3}/{len(e['seeds']):<3}  "
                   f"{fmt_steps(e, steps):<26} {iv(e['final_success'], '.2f'):<22} "
                   f"{iv(e['final_coverage'], '.0f'):<22} {episode}{e['sps']:>6.0f}")
  return "\n".join(lines)


CURVES = (("curve", "success rate", (-0.02, 1.02)),
          *((f"{name}_curve", header, None) for name, header, _ in EPISODE_METRICS.values()))


def plot(results: dict, out_dir: str) -> None:
  """``exploration_curves.png``: success (top) and the per-episode exploration metrics (below) per
  task, mean over seeds with a min..max band; ``exploration_intervals.png``: the final-value
  IQMs."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  # Runs from before a per-episode metric have no curve of it (or one of Nones): that row is left
  # out.
  curves = [c for c in CURVES if all(any(p[1] is not None for p in s.get(c[0], ()))
                                     for a in results.values() for e in a.values()
                                     for s in e["seeds"])]
  fig, axes = plt.subplots(len(curves), len(results), figsize=(5 * len(results),
                                                               3.6 * len(curves)),
                           squeeze=False, constrained_layout=True)
  for row, (key, label, ylim) in enumerate(curves):
    for ax, (task, agents) in zip(axes[row], results.items()):
      for agent, e in agents.items():
        length = min(len(s[key]) for s in e["seeds"])
        steps = np.array([p[0] for p in e["seeds"][0][key][:length]])
        values = np.array([[np.nan if p[1] is None else p[1] for p in s[key][:length]]
                           for s in e["seeds"]], float)
        with np.errstate(all="ignore"), warnings.catch_warnings():
          warnings.simplefilter("ignore", RuntimeWarning)
          line, = ax.plot(steps, np.nanmean(values, 0), label=agent)
          ax.fill_between(steps, np.nanmin(values, 0), np.nanmax(values, 0), alpha=0.15,
                          color=line.get_color())
      if key == "curve":
        ax.axhline(THRESHOLD, color="grey", lw=0.8, ls="--")
        ax.set_title(f"MiniGrid-{task}")
      if ylim:
        ax.set_ylim(*ylim)
      ax.set_xlabel("env steps")
    axes[row][0].set_ylabel(f"{label}\n(mean over seeds; band min..max)")
  axes[0][-1].legend(fontsize=8)
  fig.savefig(os.path.join(out_dir, "exploration_curves.png"), dpi=100)
  plt.close(fig)

  keys = ["final_success", "final_coverage"] + [
      f"final_{k}" for k in EPISODE_METRICS
      if all(e.get(f"final_{k}") for a in results.values() for e in a.values())]
  fig, axes = plt.subplots(1, len(keys) * len(results),
                           figsize=(2 * len(keys) * len(results), 0.45 * 6 + 1), squeeze=False)
  for i, (task, agents) in enumerate(results.items()):
    names = list(agents)
    for j, key in enumerate(keys):
      ax = axes[0][len(keys) * i + j]
      for k, name in enumerate(names):
        s = agents[name][key]
        ax.plot(s["ci95"], [k, k], lw=6, alpha=0.5)
        ax.plot([s["iqm"]], [k], "k|", ms=12)
      ax.set_yticks(range(len(names)))
      ax.set_yticklabels(names if j == 0 and i == 0 else [])
      ax.set_title(f"{task}\n{key[len('final_'):].replace('_', ' ')} (IQM)", fontsize=9)
  fig.savefig(os.path.join(out_dir, "exploration_intervals.png"), bbox_inches="tight", dpi=100)
  plt.close(fig)


def merge_previous(results: dict, path: str, steps: int, seeds: int) -> None:
  """Adds to ``results`` the per-seed entries of ``path`` (an earlier ``exploration.json``) for
  every (task, agent) that ``results`` lacks; refuses a file of another budget or seed count."""
  if not os.path.exists(path):
    return
  with open(path) as f:
    old = json.load(f)
  if (old["steps"], old["seeds"]) != (steps, seeds):
    sys.exit(f"error: --merge: {path} holds runs of {old['steps']} steps x {old['seeds']} seeds, "
             f"not --steps {steps} x --seeds {seeds}; merge only tables of one budget")
  for task, agents in old["results"].items():
    for agent, entry in agents.items():
      if agent not in results.get(task, {}) and len(entry["seeds"]) == seeds:
        results.setdefault(task, {})[agent] = {"seeds": entry["seeds"]}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--steps", type=int, default=100_000)
  parser.add_argument("--seeds", type=int, default=5)
  parser.add_argument("--log_every", type=int, default=10_000)
  parser.add_argument("--tasks", default=",".join(TASKS))
  parser.add_argument("--agents", default=",".join(AGENTS))
  parser.add_argument("--variant", default="minigrid",
                      help="the experiment files' variant every run starts from (e.g. long: "
                      "experiments/dqn.py's 32-env config for runs of millions of steps)")
  parser.add_argument("--reps", type=int, default=2000)
  parser.add_argument("--out", default=RESULTS)
  parser.add_argument("--runs", default=os.path.join(ROOT, "runs", "exploration"))
  parser.add_argument("--summary_only", action="store_true",
                      help="Summarise the runs that exist; start none.")
  parser.add_argument("--merge", action="store_true",
                      help="Keep the (task, agent) entries of --out's exploration.json that these "
                      "runs do not produce (same --steps and --seeds), and summarise them all: "
                      "a table built over several sessions whose run directories are gone.")
  args = parser.parse_args()
  tasks, agents = args.tasks.split(","), args.agents.split(",")
  bad = [a for a in agents if a not in AGENTS]
  if bad or args.seeds < 1 or args.steps < args.log_every:
    sys.exit(f"error: --agents must be from {', '.join(AGENTS)} (got {bad}), --seeds >= 1 "
             f"(got {args.seeds}) and --steps >= --log_every (got {args.steps} < {args.log_every})")
  try:  # every run is planned and validated before the first starts
    planned = {(t, a): plan_runs(t, a, args.steps, args.seeds, args.log_every, args.runs,
                                 args.variant)
               for t in tasks for a in agents}
  except sweep.SweepError as err:
    sys.exit(f"error: {err}")
  failed = []
  if not args.summary_only:
    for (task, agent), (config_arg, run) in planned.items():
      print(f"== {task} / {agent}", flush=True)
      failed += sweep.execute([run], config_arg, processes=1, gpus=sweep.gpu_count())
  results: dict = {}
  for (task, agent), (_, run) in planned.items():
    seeds = []
    for path in run["metrics"]:
      rows = metrics.read_rows(path)
      if rows and rows[-1]["step"] >= run["total_steps"]:
        seeds.append(seed_result(rows))
    if seeds:
      results.setdefault(task, {})[agent] = {"seeds": seeds}
  if args.merge:
    merge_previous(results, os.path.join(args.out, "exploration.json"), args.steps, args.seeds)
  if not results:
    sys.exit("error: no finished runs to summarise")
  warnings.filterwarnings("ignore", category=FutureWarning, module="arch")
  summarise(results, args.steps, args.reps)
  text = table(results, args.steps, args.seeds)
  print(text)
  os.makedirs(args.out, exist_ok=True)
  metrics.write_json(os.path.join(args.out, "exploration.json"),
                     {"steps": args.steps, "seeds": args.seeds, "threshold": THRESHOLD,
                      "table": text, "results": results})
  plot(results, args.out)
  print(f"wrote {os.path.join(args.out, 'exploration.json')} (+ exploration_curves.png, "
        "exploration_intervals.png)")
  if failed:
    sys.exit(f"error: {len(failed)} run(s) failed; logs: "
             + ", ".join(os.path.join(r['dir'], 'train.log') for r in failed))


if __name__ == "__main__":
  main()
