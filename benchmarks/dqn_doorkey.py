"""DQN on MiniGrid-DoorKey-8x8: goalrl's defaults against the common DQN, from the GPU runs.

  PYTHONPATH=src .venv/bin/python benchmarks/dqn_doorkey.py [--archives A.tgz,B.tgz]
      [--runs DIR[,DIR]] [--reference exploration.json] [--task DoorKey-8x8] [--at 150000]
      [--metric episode_doors] [--out benchmarks/results/dqn_doorkey_gpu.json]

Reads the archives that ``benchmarks/gpu_dqn_doorkey.sh`` brings back (default: rounds 1 to 3,
``benchmarks/results/dqn_doorkey_gpu_round{1,2,3}.tgz``), unpacked into a temporary folder, or an
unpacked ``dqn_doorkey/`` folder (``--runs``). Each holds ``dqn_doorkey/<setting>/config.json`` and
``seeds/<seed>/metrics.jsonl`` (one row per 10k env steps). Settings may have stopped early (the
device script's time limit), so each is read as far as it ran. ``success_rate`` is the fraction of
the training episodes (epsilon-greedy) that ended in a log interval and reached the goal.

Columns, per setting over its seeds:

* **round**: which archive it came from (1-based; ``-`` with ``--runs``);
* **ran to**: the last env step logged (the smallest over seeds);
* **reached 0.9**: seeds whose success rate reached 0.9, by ``exploration.steps_to``'s rule (the
  first row with ``success_rate`` >= 0.9 over at least ``MIN_EPISODES`` episodes);
* **steps to 0.9**: the step at which each of those seeds got there (k env steps, sorted);
* **success, last 5 rows**: ``success_rate`` averaged over each seed's last 5 logged rows, then
  IQM [95% stratified-bootstrap CI] over seeds (rliable, as ``exploration.py``);
* **success @150k**: mean over seeds of each seed's mean ``success_rate`` over the rows from
  140k to 150k env steps (``--at`` - ``WINDOW`` to ``--at``), so that settings stopped at
  different steps compare at equal steps; ``-`` where a setting stopped before. For a goal agent
  with exploit envs (``agent.exploit_fraction`` > 0) the exploit envs' own success rate follows
  in brackets (``x``: their successes over their episodes in those rows);
* **<metric> @150k** (with ``--metric``, one of ``CURVES``): the same window's mean of another
  logged metric, mean [min, max] over seeds; on tasks no agent solves, e.g. the doors opened or
  the key carried per episode;
* **q_mean, last row**: the mean Q of the taken actions over the replay batches of the last log
  interval's updates (the goal agent's ``goal_q_mean``, Q(s, g) of the pursued goals), mean
  [min, max] over seeds. The (clipped) return is at most 1, so a value
  above 1 is overestimation;
* **q_mean peak**: the largest ``q_mean`` of any row of any seed;
* **sps/seed**: env steps per second per seed (median over log rows after the first).

With ``--reference``, a line follows the table: P(X > Y), the probability that a seed of each
setting scores above a seed of each reference agent on the ``@`` column (``--metric``'s, else
success), with its 95% interval (rliable; ``exploration.improvement``).

Prints a markdown table and writes ``--out`` (JSON: the table, per setting the summary, the
per-seed values and the config keys that the device script varies).
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import tarfile
import tempfile
import warnings

import numpy as np

from exploration import MIN_EPISODES, THRESHOLD, improvement, interval, steps_to
from goalrl import metrics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
ARCHIVES = tuple(os.path.join(RESULTS, f"dqn_doorkey_gpu_round{r}.tgz") for r in (1, 2, 3))
LAST_ROWS = 5
WINDOW = 10_000  # "success at step S" averages the rows from S - WINDOW to S
# The config keys gpu_dqn_doorkey.sh varies between settings.
KEYS = ("env.num_envs", "agent.torso", "agent.n_step", "agent.learning_rate",
        "agent.updates_per_train", "agent.target_update_every", "agent.epsilon_decay_steps",
        "agent.replay_size")


def unpack(archive: str, dest: str) -> str:
  """Extracts ``archive`` into ``dest`` and returns its ``dqn_doorkey`` folder."""
  with tarfile.open(archive) as tar:
    if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: no paths outside dest
      tar.extractall(dest, filter="data")
    else:
      tar.extractall(dest)
  return os.path.join(dest, "dqn_doorkey")


def read_setting(setting_dir: str) -> tuple[dict, list[list[dict]]]:
  """(config, rows of every seed in seed order) of one setting's folder."""
  with open(os.path.join(setting_dir, "config.json")) as f:
    config = json.load(f)
  paths = sorted(glob.glob(os.path.join(setting_dir, "seeds", "*", "metrics.jsonl")),
                 key=lambda p: int(os.path.basename(os.path.dirname(p))))
  return config, [metrics.read_rows(p) for p in paths]


def config_keys(config: dict) -> dict:
  """The ``KEYS`` a setting's config has (an agent without one, e.g. the goal agent's torso,
  leaves it out)."""
  out = {}
  for key in KEYS:
    value = config
    for part in key.split("."):
      value = value.get(part) if isinstance(value, dict) else None
    if value is not None:
      out[key] = value
  return out


# --metric's choices: the log row's key -> its curve in an exploration.py table (--reference)
CURVES = {"success_rate": "curve", "episode_doors": "doors_curve", "key_rate": "key_curve",
          "episode_cells": "cells_curve"}


def mean_success(rows: list[dict], key: str = "success_rate") -> float | None:
  """Mean ``key`` (``success_rate``) over ``rows``, leaving out rows where it is null."""
  values = [r[key] for r in rows if r.get(key) is not None]
  return float(np.mean(values)) if values else None


def exploit_success(rows: list[dict]) -> float | None:
  """The exploit envs' success rate over ``rows``: their successes over their finished episodes
  (both logged per finished episode of all envs); None without exploit envs."""
  rows = [r for r in rows if r.get("exploit_episodes_per_episode")]
  if not rows:
    return None
  return float(sum(r["exploit_successes_per_episode"] * r["episodes"] for r in rows)
               / sum(r["exploit_episodes_per_episode"] * r["episodes"] for r in rows))


def q_mean(row: dict) -> float:
  """The row's mean Q of the taken actions (the goal agent's: Q(s, g) of the pursued goals)."""
  value = row.get("q_mean", row.get("goal_q_mean"))
  return float("nan") if value is None else float(value)


def seed_summary(rows: list[dict], at: int, metric: str | None = None) -> dict:
  window = [r for r in rows if at - WINDOW <= r["step"] <= at]
  return {"metric_at": mean_success(window, metric) if metric and rows[-1]["step"] >= at else None,
          "steps_to_90": steps_to(rows, THRESHOLD), "last_step": int(rows[-1]["step"]),
          "success_last": mean_success(rows[-LAST_ROWS:]),
          "success_at": mean_success(window) if rows[-1]["step"] >= at else None,
          "exploit_success_at": exploit_success(window) if rows[-1]["step"] >= at else None,
          "q_mean_last": q_mean(rows[-1]),
          "q_mean_peak": float(np.nanmax([q_mean(r) for r in rows])),
          "sps": float(np.median([r["perf/sps"] for r in rows[1:]] or [rows[0]["perf/sps"]]))}


def setting_summary(seeds: list[dict], reps: int) -> dict:
  """Over seeds: reached count, steps of those that reached, IQM interval, means."""
  reached = sorted(s["steps_to_90"] for s in seeds if s["steps_to_90"] is not None)
  last = [s["success_last"] for s in seeds if s["success_last"] is not None]
  at = [s["success_at"] for s in seeds]
  exploit = [s.get("exploit_success_at") for s in seeds]
  metric = [s.get("metric_at") for s in seeds]
  q = [s["q_mean_last"] for s in seeds]
  return {"ran_to": min(s["last_step"] for s in seeds), "reached": len(reached),
          "steps_to_90": reached, "success_last": interval(last, reps) if last else None,
          "success_at": float(np.mean(at)) if all(a is not None for a in at) else None,
          "exploit_success_at": (float(np.mean(exploit)) if all(x is not None for x in exploit)
                                 else None),
          "metric_at": ({"mean": float(np.mean(metric)), "min": float(min(metric)),
                         "max": float(max(metric))} if all(x is not None for x in metric)
                        else None),
          "q_mean_last": {"mean": float(np.mean(q)), "min": float(min(q)), "max": float(max(q))},
          "q_mean_peak": max(s["q_mean_peak"] for s in seeds),
          # perf/sps counts the env steps of all the seeds of the process
          "sps_per_seed": float(np.median([s["sps"] for s in seeds])) / len(seeds)}


def table(results: dict, at: int, metric: str | None = None) -> str:
  k = lambda x: f"{x / 1e3:.0f}k"
  extra = f" {metric} @{k(at)} |" if metric else ""
  lines = [f"| setting | round | ran to | reached 0.9 | steps to 0.9 | success, last {LAST_ROWS} "
           f"rows IQM [95% CI] | success @{k(at)} |{extra} q_mean, last row | q_mean peak | "
           "sps/seed |", "|---|---|---|---|---|---|---|---|---|---|" + ("---|" if metric else "")]
  for name, e in results.items():
    s = e["summary"]
    last = s["success_last"]
    last = f"{last['iqm']:.2f} [{last['ci95'][0]:.2f}, {last['ci95'][1]:.2f}]" if last else "-"
    at_ = "-" if s["success_at"] is None else f"{s['success_at']:.2f}"
    if s.get("exploit_success_at") is not None:
      at_ += f" (x{s['exploit_success_at']:.2f})"
    q = s["q_mean_last"]
    q = "-" if q is None else f"{q['mean']:.2f} [{q['min']:.2f}, {q['max']:.2f}]"
    peak = "-" if s["q_mean_peak"] is None else f"{s['q_mean_peak']:.2f}"
    if metric:
      m = s.get("metric_at")
      at_ += " | " + ("-" if m is None else f"{m['mean']:.2f} [{m['min']:.2f}, {m['max']:.2f}]")
    lines.append(f"| {name} | {e['round'] or '-'} | {k(s['ran_to'])} | {s['reached']}/"
                 f"{len(e['seeds'])} | {', '.join(k(x) for x in s['steps_to_90']) or '-'} | "
                 f"{last} | {at_} | {q} | {peak} | {s['sps_per_seed']:,.0f} |")
  return "\n".join(lines)


def summarise(sources: list[tuple[int | None, str]], at: int, reps: int,
              metric: str | None = None) -> dict:
  """Per setting (in the order of ``sources``, then by name): config keys, seeds, summary."""
  results = {}
  for round_, runs_dir in sources:
    for name in sorted(os.listdir(runs_dir)):
      if not os.path.isfile(os.path.join(runs_dir, name, "config.json")):
        continue  # a driver's log, a setting not yet started
      config, rows = read_setting(os.path.join(runs_dir, name))
      seeds = [seed_summary(r, at, metric) for r in rows if r]
      if seeds:
        results[name] = {"round": round_, "config": config_keys(config), "seeds": seeds,
                         "summary": setting_summary(seeds, reps)}
  return results


def reference(path: str, task: str, at: int, reps: int, metric: str | None = None) -> dict:
  """Settings from an ``exploration.py`` table (``path``, its ``task`` entry), each agent read from
  its per-seed success curves, so that runs here compare with them at equal env steps. Their Q
  is not in that table (null, "-")."""
  with open(path) as f:
    entries = json.load(f)["results"][task]
  results = {}
  for agent, entry in entries.items():
    seeds = []
    for seed in entry["seeds"]:
      rows = [{"step": int(step), "success_rate": value} for step, value in seed["curve"]]
      if metric:  # the metric's curve is logged at the same steps
        for row, (_, value) in zip(rows, seed[CURVES[metric]]):
          row[metric] = value
      window = [r for r in rows if at - WINDOW <= r["step"] <= at]
      seeds.append({"metric_at": (mean_success(window, metric)
                                  if metric and rows[-1]["step"] >= at else None),
                    "steps_to_90": seed["steps_to_90"], "last_step": rows[-1]["step"],
                    "success_last": mean_success(rows[-LAST_ROWS:]),
                    "success_at": mean_success(window) if rows[-1]["step"] >= at else None,
                    "q_mean_last": float("nan"), "q_mean_peak": float("nan"),
                    "sps": seed["sps"]})
    summary = setting_summary(seeds, reps)
    for one in (summary, *seeds):  # not in the table: null in the JSON, "-" in the markdown
      one["q_mean_last"] = one["q_mean_peak"] = None
    results[f"{agent} ({os.path.relpath(path)})"] = {
        "round": None, "config": {}, "seeds": seeds, "summary": summary}
  return results


def improvements(runs: dict, refs: dict, at: int, reps: int, metric: str | None = None) -> dict:
  """``{"run > ref": P(X > Y) and its 95% interval}`` over seeds, of each run setting against each
  reference agent, on ``metric`` at ``at`` (``success_rate`` without one); settings that stopped
  before ``at`` are left out."""
  key = "metric_at" if metric else "success_at"
  out = {}
  for name, e in runs.items():
    for ref, r in refs.items():
      x, y = [s[key] for s in e["seeds"]], [s[key] for s in r["seeds"]]
      if None not in x + y:
        out[f"{name} > {ref.split(' (')[0]}"] = improvement(x, y, reps)
  return out


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--archives", default=",".join(os.path.relpath(a) for a in ARCHIVES),
                      help="Comma-separated .tgz files from gpu_dqn_doorkey.sh, in round order.")
  parser.add_argument("--runs", default=None,
                      help="Comma-separated folders of settings (e.g. an unpacked dqn_doorkey/) "
                           "to read instead of --archives.")
  parser.add_argument("--reference", default=None,
                      help="An exploration.py table (exploration.json) whose DoorKey-8x8 agents "
                           "are added as settings, read from their success curves.")
  parser.add_argument("--task", default="DoorKey-8x8",
                      help="The --reference table's task whose agents are added.")
  parser.add_argument("--metric", default=None, choices=sorted(CURVES),
                      help="Another logged metric to compare at --at (a column of its own).")
  parser.add_argument("--at", type=int, default=150_000,
                      help="The step at which every setting is also compared.")
  parser.add_argument("--reps", type=int, default=2000)
  parser.add_argument("--out", default=os.path.relpath(os.path.join(RESULTS,
                                                                    "dqn_doorkey_gpu.json")))
  args = parser.parse_args()
  warnings.filterwarnings("ignore", category=FutureWarning, module="arch")
  with tempfile.TemporaryDirectory() as tmp:
    if args.runs:
      sources = [(None, d) for d in args.runs.split(",")]
    else:
      archives = args.archives.split(",")
      sources = [(i + 1, unpack(a, os.path.join(tmp, str(i)))) for i, a in enumerate(archives)]
    results = summarise(sources, args.at, args.reps, args.metric)
  refs = (reference(args.reference, args.task, args.at, args.reps, args.metric)
          if args.reference else {})
  better = improvements(results, refs, args.at, args.reps, args.metric)
  results.update(refs)
  if not results:
    raise SystemExit("error: no runs with metrics found")
  text = table(results, args.at, args.metric)
  if better:
    text += (f"\n\nP(X > Y) on {args.metric or 'success_rate'} @{args.at // 1000}k [95% CI]: "
             + "; ".join(f"{k} {v['p']:.2f} [{v['ci95'][0]:.2f}, {v['ci95'][1]:.2f}]"
                         for k, v in better.items()))
  print(text)
  metrics.write_json(args.out, {"sources": args.runs or args.archives, "threshold": THRESHOLD,
                                "min_episodes": MIN_EPISODES, "last_rows": LAST_ROWS,
                                "at": args.at, "window": WINDOW, "metric": args.metric,
                                "table": text, "improvement": better,
                                "results": results})
  print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
