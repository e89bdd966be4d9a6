"""``python -m goalrl.sweep``: a grid x seeds, summarised with rliable, resumable."""
import json
import shutil
import subprocess
import sys

import pytest

from helpers import ROOT
from goalrl import sweep

SWEEP_FILE = """
def get_sweep():
  return dict(grid={"agent.learning_rate": [1e-3, 3e-4]}, seeds=2,
              overrides={"total_steps": 1600, "log_every": 400, "checkpoint_every": 1600,
                         "pictures": False})
"""


def run_sweep(tmp_path, sweep_text=SWEEP_FILE, *flags):
  path = tmp_path / "sweep.py"
  path.write_text(sweep_text)
  cmd = [sys.executable, "-m", "goalrl.sweep", "--config=experiments/dqn.py:quick",
         f"--sweep={path}", f"--workdir={tmp_path / 'sweep'}", "--reps=500", *flags]
  return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_tiny_sweep_summarises_then_resumes_without_redoing_finished_runs(tmp_path):
  first = run_sweep(tmp_path)
  assert first.returncode == 0, first.stderr[-3000:]
  assert "0 of 2 runs already finished; running 2" in first.stdout
  out = tmp_path / "sweep"
  summary = json.loads((out / "summary.json").read_text())
  assert set(summary["settings"]) == {"learning_rate=0.001", "learning_rate=0.0003"}
  for s in summary["settings"].values():
    assert s["seeds_finished"] == 2 and len(s["final"]["per_seed"]) == 2
    lo, hi = s["auc"]["ci95"]
    assert lo <= s["auc"]["iqm"] <= hi
  for name in ("summary.png", "curves.png"):
    assert (out / name).stat().st_size > 1000
  table = [line for line in first.stdout.splitlines() if line.startswith("learning_rate=")]
  assert len(table) == 2 and all("2/2" in line for line in table)
  # Each setting ran its two seeds vmapped in one program.
  kept = out / "learning_rate=0.001" / "seeds" / "0" / "metrics.jsonl"
  assert kept.exists()
  before = kept.stat().st_mtime_ns

  # A lost setting reruns alone, the finished one is left untouched; the summary is the same.
  shutil.rmtree(out / "learning_rate=0.0003")
  third = run_sweep(tmp_path)
  assert third.returncode == 0, third.stderr[-3000:]
  assert "1 of 2 runs already finished; running 1" in third.stdout
  assert kept.stat().st_mtime_ns == before
  assert json.loads((out / "summary.json").read_text())["settings"] == summary["settings"]


@pytest.mark.slow
def test_bad_sweep_is_refused_before_any_run(tmp_path):
  bad = SWEEP_FILE.replace('"agent.learning_rate"', '"agent.learning_rat"')
  proc = run_sweep(tmp_path, bad)
  assert proc.returncode == 2 and "agent.learning_rat" in proc.stderr, proc.stderr
  assert not (tmp_path / "sweep").exists()
  invalid = SWEEP_FILE.replace("[1e-3, 3e-4]", "[1e-3, -1.0]")
  proc = run_sweep(tmp_path, invalid)
  assert proc.returncode == 2 and "agent.learning_rate=-1.0" in proc.stderr, proc.stderr
  assert not (tmp_path / "sweep").exists()


def test_grid_names_and_scores():
  names = [n for n, _ in sweep.settings({"agent.n_step": [1, 3], "agent.hidden": [64]})]
  assert names == ["n_step=1,hidden=64", "n_step=3,hidden=64"]
  assert sweep.settings({}) == [("base", {})]
  rows = [{"step": i, "success_rate": v} for i, v in enumerate([None] + [0.0] * 8 + [1.0])]
  final, auc = sweep.seed_scores(rows, "success_rate")
  assert final == 1.0 and auc == pytest.approx(1 / 9)


def test_a_killed_runs_torn_last_row_reads_as_unfinished(tmp_path):
  """A run killed mid-write leaves a torn line; the sweep must read it as unfinished, not crash."""
  path = tmp_path / "metrics.jsonl"
  path.write_text('{"step": 400}\n{"step": 800}\n{"step": 12')
  run = {"metrics": [str(path)], "total_steps": 1200}
  assert not sweep.finished(run)
  run["total_steps"] = 800
  assert sweep.finished(run)
