"""Killed, interrupted, corrupted or numerically broken runs: nothing lost, nothing duplicated."""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import orbax.checkpoint as ocp
import pytest

from helpers import ROOT, rows

# Every test here runs the CLI in subprocesses; one worker builds the shared reference run.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("crash_safety")]

QUICK = ["--config=experiments/dqn.py:quick", "--config.total_steps=6000",
         "--config.checkpoint_every=1000", "--config.pictures=False"]


def _cmd(workdir, *extra):
  return [sys.executable, "-m", "goalrl.train", f"--workdir={workdir}", *QUICK, *extra]


def _run(workdir, *extra):
  proc = subprocess.run(_cmd(workdir, *extra), cwd=ROOT, capture_output=True, text=True,
                        timeout=600)
  return proc


def _params(workdir, step):
  state = ocp.StandardCheckpointer().restore(
      os.path.join(workdir, "checkpoints", str(step), "state"))
  return state["agent"]["learner"]["online"]


def _assert_same_run(a, b, step=6000):
  assert rows(a) == rows(b)
  import jax
  jax.tree.map(np.testing.assert_array_equal, _params(a, step), _params(b, step))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("reference") / "run"
  proc = _run(workdir)
  assert proc.returncode == 0, proc.stderr[-2000:]
  return workdir


def _start(workdir):
  return subprocess.Popen(_cmd(workdir), cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)


def _wait_for(predicate, proc, timeout=120):
  end = time.time() + timeout
  while time.time() < end and proc.poll() is None:
    if predicate():
      return True
    time.sleep(0.005)
  return False


def test_sigkill_inside_a_checkpoint_write_then_at_random_moments_then_resume(reference, tmp_path):
  """Three kills in a row, then one run to the end: the same rows and parameters. The first kill
  lands inside a checkpoint write (while orbax's ``tmp`` directory exists); the next two at a
  random moment after a new row was logged (so between, or inside, checkpoint writes)."""
  rng = random.Random(0)
  workdir = tmp_path / "run"
  metrics = workdir / "metrics.jsonl"
  ckpts = workdir / "checkpoints"
  proc = _start(workdir)
  writing = lambda: ckpts.exists() and any("tmp" in p.name for p in ckpts.iterdir())
  assert _wait_for(writing, proc), "never saw a checkpoint being written"
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  for _ in range(2):
    proc = _start(workdir)
    # Kill somewhere in training: after the next logged rows, at a random moment.
    rows_before = len(metrics.read_text().splitlines()) if metrics.exists() else 0
    _wait_for(lambda: metrics.exists() and len(metrics.read_text().splitlines()) > rows_before,
              proc)
    time.sleep(rng.uniform(0.0, 0.6))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
  proc = _run(workdir)
  assert proc.returncode == 0, proc.stderr[-2000:]
  _assert_same_run(reference, workdir)


def test_ctrl_c_saves_a_checkpoint_and_resumes(reference, tmp_path):
  workdir = tmp_path / "run"
  metrics = workdir / "metrics.jsonl"
  proc = subprocess.Popen(_cmd(workdir, "--config.checkpoint_every=3000"), cwd=ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
  assert _wait_for(lambda: metrics.exists() and len(metrics.read_text().splitlines()) >= 1, proc)
  proc.send_signal(signal.SIGINT)
  _, stderr = proc.communicate(timeout=120)
  assert proc.returncode == 130, stderr[-2000:]
  last = rows(workdir)[-1]["step"]
  assert "interrupted" in stderr and (workdir / "checkpoints" / str(last)).is_dir()
  proc = _run(workdir, "--config.checkpoint_every=3000")
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert rows(workdir) == rows(reference)
  # code.json: which code ran the workdir from which step (the start, then the resume).
  from goalrl import checkpoint
  history = json.loads((workdir / "code.json").read_text())
  assert [h["step"] for h in history] == [0, last]
  assert {h["commit"] for h in history} == {checkpoint.code_version()}


def test_corrupt_latest_checkpoint_is_skipped(reference, tmp_path):
  workdir = tmp_path / "run"
  shutil.copytree(reference, workdir)
  # Damage every file of the newest checkpoint (6000); 5000 is still there.
  for root, _, files in os.walk(workdir / "checkpoints" / "6000"):
    for name in files:
      with open(os.path.join(root, name), "wb") as f:
        f.write(b"garbage")
  proc = _run(workdir, "--config.total_steps=6000")
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert "checkpoint 6000" in proc.stderr and "cannot be read" in proc.stderr
  _assert_same_run(reference, workdir)


def test_checkpoint_of_another_code_version_is_refused_and_kept(reference, tmp_path):
  """A state written by code with other state fields is not "damaged": the run stops before
  training, names the fields and the commit that wrote it, and keeps checkpoints and metrics."""
  from goalrl import checkpoint
  workdir = tmp_path / "run"
  shutil.copytree(reference, workdir)
  manager = checkpoint.make_manager(str(workdir), 5)
  state = ocp.StandardCheckpointer().restore(workdir / "checkpoints" / "6000" / "state")
  actions = manager.restore(6000, args=ocp.args.Composite(actions=ocp.args.StandardRestore()))
  for step in manager.all_steps():
    manager.delete(step)
  checkpoint.save(manager, 6000, {**state, "older_field": np.zeros(3)},
                  np.asarray(actions.actions["actions"]))
  before = rows(workdir)
  proc = _run(workdir, "--config.total_steps=7000")
  assert proc.returncode == 2, proc.stderr[-2000:]
  message = proc.stderr.replace("\n", " ")
  assert "checkpoint 6000" in message and "older_field" in message, message[-2000:]
  assert checkpoint.code_version() in message and "Traceback" not in message
  assert rows(workdir) == before and (workdir / "checkpoints" / "6000").is_dir()
  assert not (workdir / "checkpoints_unreadable").exists()


def test_nan_stops_cleanly_and_keeps_last_good_checkpoint(tmp_path):
  workdir = tmp_path / "run"
  proc = _run(workdir, "--config.agent.learning_rate=1e30", "--config.agent.learning_starts=2500")
  assert proc.returncode == 3, proc.stderr[-2000:]
  assert "non-finite" in proc.stderr and "loss" in proc.stderr and "Traceback" not in proc.stderr
  assert "last good checkpoint is step 2000" in proc.stderr
  assert [r["step"] for r in rows(workdir)] == [1000, 2000]
  steps = sorted(int(p.name) for p in (workdir / "checkpoints").iterdir() if p.name.isdigit())
  assert steps[-1] == 2000
