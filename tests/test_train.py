"""End-to-end runs of goalrl.train: reproducibility, resume, both rollout paths, the CLI."""
import json
import os
import subprocess
import sys

import pytest

from goalrl import train as train_lib
from goalrl.config import ConfigError
from conftest import ROOT


def _rows(workdir):
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    rows = [json.loads(line) for line in f]
  return [{k: v for k, v in r.items() if not k.startswith("perf/")} for r in rows]


AGENTS = ["dqn", "optimistic_dqn", "goal_agent", "rnd_dqn"]


def _quick(experiment, agent="dqn", **env):
  config = experiment(agent, "quick")
  config.env.update(env)
  return config


@pytest.mark.parametrize("agent", AGENTS)
def test_same_seed_same_numbers_other_seed_differs(experiment, tmp_path, agent):
  train_lib.train(_quick(experiment, agent), str(tmp_path / "a"), progress=False)
  train_lib.train(_quick(experiment, agent), str(tmp_path / "b"), progress=False)
  other = _quick(experiment, agent)
  other.seed = 1
  train_lib.train(other, str(tmp_path / "c"), progress=False)
  a, b, c = (_rows(tmp_path / d) for d in "abc")
  assert len(a) == 4 and a[0]["updates"] > 0
  assert a == b
  assert a != c


@pytest.mark.parametrize("agent", AGENTS)
def test_resume_equals_uninterrupted(experiment, tmp_path, agent):
  train_lib.train(_quick(experiment, agent), str(tmp_path / "full"), progress=False)
  first = _quick(experiment, agent)
  first.total_steps = 2_000  # stops at the first checkpoint
  train_lib.train(first, str(tmp_path / "resumed"), progress=False)
  assert len(_rows(tmp_path / "resumed")) == 2
  # A crash after logging step 3000 but before its checkpoint: the stale row must go.
  with open(tmp_path / "resumed" / "metrics.jsonl", "a") as f:
    f.write(json.dumps({"step": 3000, "episode_return": -1}) + "\n{\"step\": 40")
  train_lib.train(_quick(experiment, agent), str(tmp_path / "resumed"), progress=False)
  assert _rows(tmp_path / "resumed") == _rows(tmp_path / "full")


def test_host_rollout_matches_xla(experiment, tmp_path):
  train_lib.train(_quick(experiment, rollout="xla"), str(tmp_path / "xla"), progress=False)
  train_lib.train(_quick(experiment, rollout="host"), str(tmp_path / "host"), progress=False)
  assert _rows(tmp_path / "xla") == _rows(tmp_path / "host")


def test_resume_refuses_a_different_config(experiment, tmp_path):
  train_lib.train(_quick(experiment), str(tmp_path), progress=False)
  changed = _quick(experiment)
  changed.agent.learning_rate = 0.1
  with pytest.raises(ConfigError, match="agent.learning_rate"):
    train_lib.train(changed, str(tmp_path), progress=False)


def test_atari_smoke_logs_coverage_and_resumes(experiment, tmp_path):
  config = experiment("dqn", "atari")
  config.env.num_envs = 8
  config.total_steps, config.log_every, config.checkpoint_every = 512, 256, 256
  config.agent.replay_size, config.agent.learning_starts = 4096, 256
  config.agent.batch_size = 8
  train_lib.train(config, str(tmp_path / "full"), progress=False)
  rows = _rows(tmp_path / "full")
  assert [r["step"] for r in rows] == [256, 512]
  assert rows[-1]["coverage"] >= 2 and rows[-1]["rooms"] >= 1 and rows[-1]["updates"] > 0
  # Sticky actions draw from each env's RNG: resuming must rebuild it exactly.
  config.total_steps = 256
  train_lib.train(config, str(tmp_path / "resumed"), progress=False)
  config.total_steps = 512
  train_lib.train(config, str(tmp_path / "resumed"), progress=False)
  assert _rows(tmp_path / "resumed") == rows


@pytest.mark.parametrize("agent", AGENTS)
def test_cli_quick_writes_every_output(tmp_path, agent):
  workdir = tmp_path / "run"
  cmd = [sys.executable, "-m", "goalrl.train", f"--config=experiments/{agent}.py:quick",
         f"--workdir={workdir}", "--config.total_steps=2000"]
  proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  for name in ("config.json", "metrics.jsonl", "curves.png"):
    assert (workdir / name).stat().st_size > 0, name
  assert any(p.name.startswith("events") for p in (workdir / "tb").iterdir())
  assert (workdir / "checkpoints" / "2000").is_dir()
  assert str(workdir / "curves.png") in proc.stdout
  config = json.loads((workdir / "config.json").read_text())
  assert config["total_steps"] == 2000 and config["env"]["name"] == "MiniGrid-Empty-5x5-v0"
  rows = _rows(workdir)
  for key in ("step", "episode_return", "episode_length", "success_rate", "epsilon", "coverage"):
    assert key in rows[-1], key
  assert any(k.endswith("loss") and rows[-1][k] is not None for k in rows[-1])


@pytest.mark.parametrize("agent", ["optimistic_dqn", "goal_agent", "rnd_dqn"])
def test_atari_smoke_for_every_agent(experiment, tmp_path, agent):
  """The note's Atari encoder (and RND's nets) compile and update on Montezuma at smoke scale."""
  config = experiment(agent, "atari")
  config.total_steps, config.log_every, config.checkpoint_every = 256, 128, 256
  config.agent.replay_size, config.agent.learning_starts, config.agent.batch_size = 2048, 224, 4
  if "encoder" in config.agent:
    config.agent.encoder.batch_size, config.agent.encoder.stream_size = 4, 256
  if agent == "goal_agent":
    config.agent.bank_size = 64
  rows = train_lib.train(config, str(tmp_path), progress=False)
  assert rows[-1]["updates"] > 0 and rows[-1]["coverage"] >= 2 and rows[-1]["rooms"] >= 1


def _assert_rows_close(a, b, rtol):
  assert [sorted(r) for r in a] == [sorted(r) for r in b]
  for ra, rb in zip(a, b):
    for k in ra:
      if isinstance(ra[k], float) and rb[k] is not None:
        assert ra[k] == pytest.approx(rb[k], rel=rtol, abs=1e-6), (ra["step"], k)
      else:
        assert ra[k] == rb[k], (ra["step"], k)


@pytest.mark.parametrize("agent, rollout, rtol", [
    ("dqn", "xla", 0.0), ("dqn", "host", 0.0), ("optimistic_dqn", "xla", 2e-3)])
def test_vmapped_seeds_equal_each_seed_alone(experiment, tmp_path, agent, rollout, rtol):
  """Exact for DQN; the encoder's batched matmuls may reorder float sums under vmap, so latent
  agents' float metrics are compared with a tolerance, while every integer (episodes, coverage,
  updates) must match exactly. How far the floats drift depends on the CPU's kernels: ~1e-7
  relative on an earlier machine, 3.3e-4 (q_mean at step 3000) on the 2-core AMD EPYC of
  2026-11-26, with the code of that day's first commit as well as the later ones."""
  config = _quick(experiment, agent, rollout=rollout)
  config.num_seeds, config.seed = 2, 5
  together = train_lib.train(config, str(tmp_path / "both"), progress=False)
  assert sorted(together) == [5, 6]
  for seed in (5, 6):
    alone = _quick(experiment, agent, rollout=rollout)
    alone.seed = seed
    train_lib.train(alone, str(tmp_path / f"alone{seed}"), progress=False)
    _assert_rows_close(_rows(tmp_path / "both" / "seeds" / str(seed)),
                       _rows(tmp_path / f"alone{seed}"), rtol)
  assert _rows(tmp_path / "both" / "seeds" / "5") != _rows(tmp_path / "both" / "seeds" / "6")


def test_vmapped_seeds_resume(experiment, tmp_path):
  config = _quick(experiment)
  config.num_seeds = 3
  train_lib.train(config, str(tmp_path / "full"), progress=False)
  config.total_steps = 2_000
  train_lib.train(config, str(tmp_path / "resumed"), progress=False)
  config.total_steps = 4_000
  train_lib.train(config, str(tmp_path / "resumed"), progress=False)
  for seed in range(3):
    assert (_rows(tmp_path / "resumed" / "seeds" / str(seed))
            == _rows(tmp_path / "full" / "seeds" / str(seed)))
