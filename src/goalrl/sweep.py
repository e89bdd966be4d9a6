"""Sweeps: a grid of config overrides x seeds, run resumably, summarised with honest statistics.

  python -m goalrl.sweep --config=experiments/optimistic_dqn.py:minigrid \\
      --sweep=experiments/sweeps/optimism_ratio.py --workdir=runs/sweep

A sweep file defines ``get_sweep()`` returning a dict:

* ``grid``: ``{config key: [values]}``; the settings are the cartesian product (``{}``: one);
* ``seeds``: the number of seeds per setting (seeds ``first_seed .. first_seed + seeds - 1``);
* ``first_seed`` (optional, default 0) and ``overrides`` (optional): ``{config key: value}``
  applied to every setting (e.g. a shorter ``total_steps``).

Runs: every setting is one ``python -m goalrl.train`` process in ``workdir/<setting>/``. Its seeds
run vmapped in one program (``num_seeds``; ``--vmap_seeds=false`` runs one process per seed
instead, in ``workdir/<setting>/seed_<s>/``). Up to ``--processes`` run at once; on a machine with
GPUs each process gets one (``CUDA_VISIBLE_DEVICES``, ``parallel.devices=1``), so a sweep fills
every GPU; on CPU the default is one at a time. Every setting is built and validated before the
first run starts. A run whose metrics already reach ``total_steps`` is skipped; an unfinished one
resumes from its checkpoint (``goalrl.train`` semantics), so rerunning the command after a crash
or a kill redoes nothing that finished.

Summary: per setting, each seed's *final* score (mean of ``--metric`` over the last 10% of its log
rows) and *area under the curve* (mean over all rows), aggregated over seeds as the interquartile
mean with 95% stratified-bootstrap intervals (rliable; one task, so the strata are the seeds).
Printed as a table and written to ``workdir/summary.json``, ``summary.png`` (interval plot) and
``curves.png`` (per-setting mean curve with the range over seeds).
"""
from __future__ import annotations

import importlib.util
import itertools
import os
import shutil
import subprocess
import sys
import time
import warnings

from absl import app, flags, logging

from goalrl import config as config_lib
from goalrl import envs, metrics

def define_flags() -> None:
  """Command-line flags, defined only when run as a program (``goalrl.train`` defines some of the
  same names, and both modules may be imported in one process)."""
  flags.DEFINE_string("config", None, "Experiment, e.g. experiments/dqn.py:minigrid.")
  flags.DEFINE_string("sweep", None, "Sweep file defining get_sweep().")
  flags.DEFINE_string("workdir", None, "Directory of the sweep's runs and summary.")
  flags.DEFINE_integer("processes", 0, "Runs at once; 0 = one per GPU (1 on CPU).")
  flags.DEFINE_bool("vmap_seeds", True, "Run a setting's seeds in one program.")
  flags.DEFINE_string("metric", None, "Metric to summarise (default: success_rate on MiniGrid, "
                      "episode_return elsewhere).")
  flags.DEFINE_integer("reps", 2000, "Bootstrap resamples for the intervals.")
  flags.DEFINE_bool("dry_run", False, "Print the runs and exit.")
  flags.mark_flags_as_required(["config", "sweep", "workdir"])


class SweepError(ValueError):
  """A bad sweep file or override; raised before any run starts."""


def load_sweep(path: str) -> dict:
  if not os.path.exists(path):
    raise SweepError(f"--sweep={path!r} does not exist")
  spec = importlib.util.spec_from_file_location("sweep_file", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  sweep = module.get_sweep()
  unknown = set(sweep) - {"grid", "seeds", "first_seed", "overrides"}
  if unknown or not isinstance(sweep.get("seeds"), int) or sweep["seeds"] < 1:
    raise SweepError(f"sweep file {path!r}: get_sweep() must return grid (dict of lists), seeds "
                     f"(int >= 1), and optionally first_seed and overrides; got keys "
                     f"{sorted(sweep)} with seeds={sweep.get('seeds')!r}")
  return {"grid": {}, "first_seed": 0, "overrides": {}, **sweep}


def settings(grid: dict) -> list[tuple[str, dict]]:
  """``(name, overrides)`` of every point of the grid; names like ``lr=0.001,n_step=3``."""
  keys = list(grid)
  out = []
  for values in itertools.product(*(grid[k] for k in keys)):
    overrides = dict(zip(keys, values))
    name = ",".join(f"{k.split('.')[-1]}={v}" for k, v in overrides.items()) or "base"
    out.append(("".join(c if c.isalnum() or c in "=,.-_" else "_" for c in name), overrides))
  return out


def apply(config, overrides: dict) -> None:
  """Sets dotted keys; a missing key or a wrong type is a :class:`SweepError`."""
  for key, value in overrides.items():
    *path, leaf = key.split(".")
    node = config
    try:
      for part in path:
        node = node[part]
      if leaf not in node:
        raise KeyError(leaf)
      node[leaf] = value
    except (KeyError, TypeError) as err:
      raise SweepError(f"sweep override {key}={value!r} does not fit the config ({err}); "
                       "the keys and types are those of the experiment file's get_config()") from err


def flag_value(value) -> str:
  if isinstance(value, (tuple, list)):
    return "(" + ",".join(str(v) for v in value) + ("," if len(value) == 1 else "") + ")"
  return str(value)


def plan(config_arg: str, sweep: dict, workdir: str, vmap_seeds: bool) -> list[dict]:
  """Every run of the sweep with its command-line overrides and output dirs, validated."""
  path, _, variant = config_arg.partition(":")
  seeds = list(range(sweep["first_seed"], sweep["first_seed"] + sweep["seeds"]))
  runs = []
  for name, overrides in settings(sweep["grid"]):
    overrides = {**sweep["overrides"], **overrides}
    groups = [seeds] if vmap_seeds else [[s] for s in seeds]
    for group in groups:
      run_overrides = {**overrides, "seed": group[0], "num_seeds": len(group)}
      config = config_lib.load_experiment(path, variant or None)
      apply(config, run_overrides)
      try:
        config_lib.validate(config)
      except config_lib.ConfigError as err:
        raise SweepError(f"setting {name!r}: {err}") from err
      run_dir = os.path.join(workdir, name) if vmap_seeds else os.path.join(
          workdir, name, f"seed_{group[0]}")
      metrics = ([os.path.join(run_dir, "metrics.jsonl")] if len(group) == 1 else
                 [os.path.join(run_dir, "seeds", str(s), "metrics.jsonl") for s in group])
      runs.append(dict(setting=name, seeds=group, dir=run_dir, metrics=metrics,
                       total_steps=config.total_steps, kind=envs.env_kind(config.env.name),
                       args=[f"--config.{k}={flag_value(v)}" for k, v in run_overrides.items()]))
  return runs


def finished(run: dict) -> bool:
  return all((metrics.read_rows(p) or [{"step": -1}])[-1]["step"] >= run["total_steps"]
             for p in run["metrics"])


def gpu_count() -> int:
  """GPUs on this machine, without starting jax here (it would reserve their memory)."""
  if not shutil.which("nvidia-smi"):
    return 0
  out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
  return sum(line.startswith("GPU ") for line in out.stdout.splitlines()) if out.returncode == 0 else 0


def execute(runs: list[dict], config_arg: str, processes: int, gpus: int) -> list[dict]:
  """Runs the unfinished runs, ``processes`` at a time; returns the ones that failed."""
  todo = [r for r in runs if not finished(r)]
  print(f"{len(runs) - len(todo)} of {len(runs)} runs already finished; running {len(todo)} "
        f"({processes} at a time{', one GPU each' if gpus else ''})", flush=True)
  free = list(range(max(processes, 1)))
  active, failed = {}, []
  while todo or active:
    while todo and free:
      run, slot = todo.pop(0), free.pop(0)
      env = dict(os.environ)
      args = list(run["args"])
      if gpus:
        env["CUDA_VISIBLE_DEVICES"] = str(slot % gpus)
        args.append("--config.parallel.devices=1")
      os.makedirs(run["dir"], exist_ok=True)
      log = open(os.path.join(run["dir"], "train.log"), "a")
      cmd = [sys.executable, "-m", "goalrl.train", f"--config={config_arg}",
             f"--workdir={run['dir']}", *args]
      print(f"start  {run['setting']} seeds {run['seeds'][0]}..{run['seeds'][-1]}  "
            f"(log: {log.name})", flush=True)
      active[slot] = (run, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env),
                      log, time.time())
    time.sleep(0.5)
    for slot, (run, proc, log, t0) in list(active.items()):
      if proc.poll() is None:
        continue
      log.close()
      del active[slot]
      free.append(slot)
      status = "done  " if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
      print(f"{status} {run['setting']} seeds {run['seeds'][0]}..{run['seeds'][-1]} in "
            f"{time.time() - t0:.0f} s", flush=True)
      if proc.returncode != 0:
        failed.append(run)
  return failed


def seed_scores(rows: list[dict], metric: str) -> tuple[float, float]:
  """(final, area under the curve) of one seed: the mean of ``metric`` over the last 10% of the
  rows, and over all rows. Rows where it is null (no episode ended) are left out."""
  import numpy as np
  values = np.array([r.get(metric) if r.get(metric) is not None else np.nan for r in rows], float)
  tail = values[-max(1, len(values) // 10):]
  mean = lambda x: float(np.nanmean(x)) if np.isfinite(x).any() else float("nan")
  return mean(tail), mean(values)


def summarise(runs: list[dict], metric: str, reps: int, workdir: str) -> dict:
  """IQM with 95% stratified-bootstrap intervals per setting; table, JSON and plots."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  import numpy as np
  from rliable import library as rly
  from rliable import metrics as rly_metrics
  from rliable import plot_utils

  by_setting: dict[str, dict] = {}
  for run in runs:
    entry = by_setting.setdefault(run["setting"], {"final": [], "auc": [], "curves": []})
    for seed, path in zip(run["seeds"], run["metrics"]):
      rows = metrics.read_rows(path)
      if not rows or rows[-1]["step"] < run["total_steps"]:
        continue  # unfinished or failed: left out, and counted below
      final, auc = seed_scores(rows, metric)
      entry["final"].append(final)
      entry["auc"].append(auc)
      entry["curves"].append(([r["step"] for r in rows],
                              [r.get(metric) if r.get(metric) is not None else np.nan
                               for r in rows]))
  names = [n for n, e in by_setting.items() if e["final"]]
  iqm = lambda scores: np.array([rly_metrics.aggregate_iqm(scores)])
  summary = {"metric": metric, "settings": {}}
  for score in ("final", "auc"):
    # rliable wants [runs, tasks] per setting; NaN scores (metric never reported) are dropped.
    data = {n: np.array([s for s in by_setting[n][score] if np.isfinite(s)])[:, None] for n in names}
    data = {n: v for n, v in data.items() if len(v)}
    points, intervals = rly.get_interval_estimates(
        data, iqm, reps=reps, random_state=np.random.RandomState(0))
    for n in data:
      summary["settings"].setdefault(n, {})[score] = {
          "iqm": float(points[n][0]), "ci95": [float(intervals[n][0, 0]),
                                               float(intervals[n][1, 0])],
          "per_seed": [float(s) for s in by_setting[n][score]]}
  expected = {}
  for run in runs:
    expected[run["setting"]] = expected.get(run["setting"], 0) + len(run["seeds"])
  for n in by_setting:
    summary["settings"].setdefault(n, {})["seeds_finished"] = len(by_setting[n]["final"])
    summary["settings"][n]["seeds_planned"] = expected[n]

  header = f"{'setting':<32} {'seeds':>5}  {'final ' + metric + ' IQM [95% CI]':<36} AUC IQM [95% CI]"
  lines = [header, "-" * len(header)]
  fmt = lambda s: (f"{s['iqm']:.3f} [{s['ci95'][0]:.3f}, {s['ci95'][1]:.3f}]" if s else "n/a")
  for n, s in summary["settings"].items():
    lines.append(f"{n:<32} {s['seeds_finished']:>2}/{s['seeds_planned']:<2}  "
                 f"{fmt(s.get('final')):<36} {fmt(s.get('auc'))}")
  table = "\n".join(lines)
  summary["table"] = table

  os.makedirs(workdir, exist_ok=True)
  metrics.write_json(os.path.join(workdir, "summary.json"), summary)
  plotted = [n for n in summary["settings"] if "final" in summary["settings"][n]]
  if plotted:
    points = {n: np.array([summary["settings"][n][s]["iqm"] for s in ("final", "auc")])
              for n in plotted}
    intervals = {n: np.array([summary["settings"][n][s]["ci95"] for s in ("final", "auc")]).T
                 for n in plotted}
    fig, _ = plot_utils.plot_interval_estimates(
        points, intervals, metric_names=[f"final {metric} (IQM)", f"AUC {metric} (IQM)"],
        algorithms=plotted, xlabel="", row_height=0.5)
    fig.savefig(os.path.join(workdir, "summary.png"), bbox_inches="tight", dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4))
    for n in plotted:
      length = min(len(c[0]) for c in by_setting[n]["curves"])
      steps = np.array(by_setting[n]["curves"][0][0][:length])
      values = np.array([c[1][:length] for c in by_setting[n]["curves"]], float)
      with np.errstate(all="ignore"):
        line, = ax.plot(steps, np.nanmean(values, 0), label=n)
        ax.fill_between(steps, np.nanmin(values, 0), np.nanmax(values, 0), alpha=0.2,
                        color=line.get_color())
    ax.set_xlabel("env steps")
    ax.set_ylabel(metric)
    ax.set_title("mean over seeds (band: min..max)")
    ax.legend(fontsize=8)
    fig.savefig(os.path.join(workdir, "curves.png"), bbox_inches="tight", dpi=100)
    plt.close(fig)
  return summary


def main(argv):
  del argv
  f = flags.FLAGS
  logging.set_verbosity(logging.WARNING)  # rliable logs every estimate at INFO
  # arch (rliable's bootstrap) deprecates the RandomState rliable passes; the numbers are unchanged.
  warnings.filterwarnings("ignore", category=FutureWarning, module="arch")
  try:
    sweep = load_sweep(f.sweep)
    runs = plan(f.config, sweep, f.workdir, f.vmap_seeds)
  except (SweepError, OSError, AttributeError) as err:
    print(f"error: {err}", file=sys.stderr)
    sys.exit(2)
  if f.dry_run:
    for run in runs:
      print(run["dir"], " ".join(run["args"]))
    return
  gpus = gpu_count()
  processes = f.processes or max(gpus, 1)
  failed = execute(runs, f.config, processes, gpus)
  metric = f.metric or ("success_rate" if runs[0]["kind"] == "minigrid" else "episode_return")
  summary = summarise(runs, metric, f.reps, f.workdir)
  print(summary["table"])
  print(f"summary: {os.path.join(os.path.abspath(f.workdir), 'summary.json')} "
        "(+ summary.png, curves.png)")
  if failed:
    print(f"error: {len(failed)} run(s) failed; their logs: "
          + ", ".join(os.path.join(r['dir'], 'train.log') for r in failed), file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  define_flags()
  app.run(main)
