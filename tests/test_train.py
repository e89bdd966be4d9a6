"""End-to-end runs of goalrl.train: reproducibility, resume, both rollout paths, the CLI.

Most tests read the session's ``quick_run`` (one CLI run per agent) and compare a single new run
with it: a fresh run with the same seed, a resume from its halfway checkpoint, vmapped seeds, the
host rollout. Each new run compiles once; the references are shared.
"""
import json
import shutil

import jax
import numpy as np
import pytest

from goalrl import driver, train as train_lib
from goalrl.config import ConfigError
from helpers import AGENTS, for_agents, group, halfway_copy, load_experiment, quick_config, rows

pytestmark = pytest.mark.slow


def _quick(agent="dqn", **env):
  config = quick_config(agent)
  config.env.update(env)
  return config


@pytest.mark.parametrize("agent", for_agents(*AGENTS))
def test_cli_quick_writes_every_output(quick_run, agent):
  workdir, proc = quick_run(agent)
  for name in ("config.json", "metrics.jsonl", "curves.png"):
    assert (workdir / name).stat().st_size > 0, name
  assert any(p.name.startswith("events") for p in (workdir / "tb").iterdir())
  assert (workdir / "checkpoints" / "2048").is_dir() and (workdir / "checkpoints" / "1024").is_dir()
  assert str(workdir / "curves.png") in proc.stdout
  config = json.loads((workdir / "config.json").read_text())
  assert config["total_steps"] == 2048 and config["env"]["name"] == "MiniGrid-Empty-5x5-v0"
  done = rows(workdir)
  for key in ("step", "episode_return", "episode_length", "success_rate", "epsilon", "coverage"):
    assert key in done[-1], key
  assert any(k.endswith("loss") and done[-1][k] is not None for k in done[-1])


# DQN's and optimistic DQN's fresh in-process runs are their vmapped tests' seeds alone (below).
@pytest.mark.parametrize("agent", for_agents("goal_agent", "rnd_dqn"))
def test_same_seed_same_numbers(quick_run, tmp_path, agent):
  """A fresh in-process run gives the CLI's numbers exactly, updates included (its first 512 env
  steps: the rest of the CLI run is redone exactly by ``test_resume_equals_uninterrupted``)."""
  workdir, _ = quick_run(agent)
  config = _quick(agent)
  config.total_steps = 512
  again = train_lib.train(config, str(tmp_path / "again"), progress=False)
  reference = rows(workdir)
  assert len(reference) == 4 and reference[0]["step"] == 512 and reference[0]["updates"] > 0
  assert rows(tmp_path / "again") == reference[:1] and len(again) == 1


@pytest.mark.parametrize("agent", AGENTS)
def test_same_seed_same_start_other_seed_another(tmp_path, agent):
  """Built twice, seed 0 starts from the same state (agent, envs, loop key); seed 1 from another
  agent state and loop key (its whole run differs from seed 0's in the vmapped tests)."""
  other = _quick(agent)
  other.seed = 1
  starts = [driver.build(c, str(tmp_path / f"{i}"))[1]
            for i, c in enumerate((_quick(agent), _quick(agent), other))]
  equal = lambda a, b: jax.tree.map(lambda x, y: np.array_equal(np.asarray(x), np.asarray(y)), a, b)
  assert all(jax.tree.leaves(equal(starts[0], starts[1])))
  different = equal(starts[0], starts[2])
  assert not different.key and not all(jax.tree.leaves(different.agent))


@pytest.mark.parametrize("agent", for_agents(*AGENTS))
def test_resume_equals_uninterrupted(quick_run, tmp_path, agent):
  """Resumed from the halfway checkpoint, with rows 1,536 and 2,048 and a torn line logged after
  it (a crash before the next checkpoint), the run rewrites exactly the uninterrupted rows."""
  workdir, _ = quick_run(agent)
  resumed = halfway_copy(workdir, tmp_path / "resumed", 2048)
  train_lib.train(_quick(agent), str(resumed), progress=False)
  assert rows(resumed) == rows(workdir)


@pytest.mark.xdist_group(group("dqn"))
def test_resume_refuses_a_different_config(quick_run, tmp_path):
  workdir = tmp_path / "run"
  shutil.copytree(quick_run("dqn")[0], workdir)
  changed = _quick()
  changed.agent.learning_rate = 0.1
  with pytest.raises(ConfigError, match="agent.learning_rate"):
    train_lib.train(changed, str(workdir), progress=False)


def test_a_renamed_variant_resumes_and_a_changed_value_does_not(tmp_path):
  """The variant is a name (goal_agent.py's ``minigrid`` of before 2026-12-01 is ``archive``):
  a run resumes under another name for the same values, not under the same name with others."""
  driver.check_workdir_config(load_experiment("goal_agent", "archive"), str(tmp_path))
  renamed = load_experiment("goal_agent", "archive")
  renamed.variant = "minigrid"
  driver.check_workdir_config(renamed, str(tmp_path))
  with pytest.raises(ConfigError, match="agent.achiever: False -> True"):
    driver.check_workdir_config(load_experiment("goal_agent", "minigrid"), str(tmp_path))


def test_atari_smoke_logs_coverage_and_resumes(experiment, full_optimizations, tmp_path):
  config = experiment("dqn", "atari")
  config.env.num_envs = 4
  config.total_steps, config.log_every, config.checkpoint_every = 256, 128, 128
  config.agent.replay_size, config.agent.learning_starts = 1024, 224
  config.agent.batch_size, config.agent.updates_per_train = 8, 1
  train_lib.train(config, str(tmp_path / "full"), progress=False)
  done = rows(tmp_path / "full")
  assert [r["step"] for r in done] == [128, 256]
  assert done[-1]["coverage"] >= 2 and done[-1]["rooms"] >= 1 and done[-1]["updates"] > 0
  # Sticky actions draw from each env's RNG: resuming must rebuild it exactly.
  resumed = halfway_copy(tmp_path / "full", tmp_path / "resumed", 256)
  train_lib.train(config, str(resumed), progress=False)
  assert rows(resumed) == done


@pytest.mark.parametrize("agent", ["optimistic_dqn", "goal_agent", "rnd_dqn"])
def test_atari_smoke_for_every_agent(experiment, full_optimizations, tmp_path, agent):
  """The latent agents' Atari autoencoder (and RND's nets) compile and update on Montezuma at
  smoke scale (conv gradients without XLA's optimisations run ~8x slower: full_optimizations)."""
  config = experiment(agent, "atari")
  config.env.num_envs = 4
  config.total_steps, config.log_every, config.checkpoint_every = 128, 128, 128
  config.agent.replay_size, config.agent.learning_starts, config.agent.batch_size = 1024, 120, 4
  config.agent.updates_per_train = 1
  if "encoder" in config.agent:
    config.agent.encoder.batch_size, config.agent.encoder.stream_size = 4, 256
  if agent == "goal_agent":
    config.agent.bank_size = 64
  done = train_lib.train(config, str(tmp_path), progress=False)
  assert done[-1]["updates"] > 0 and done[-1]["coverage"] >= 2 and done[-1]["rooms"] >= 1


def _assert_rows_close(a, b, rtol):
  assert [sorted(r) for r in a] == [sorted(r) for r in b]
  for ra, rb in zip(a, b):
    for k in ra:
      if isinstance(ra[k], float) and rb[k] is not None:
        assert ra[k] == pytest.approx(rb[k], rel=rtol, abs=1e-6), (ra["step"], k)
      else:
        assert ra[k] == rb[k], (ra["step"], k)


# DQN's vmapped run steps envpool on the host: equal to each seed alone (stepped by envpool's XLA
# step inside the compiled loop), it proves host = xla and vmapped = alone at once; its resume,
# on the xla path, proves the vmapped xla program resumes too.
VMAPPED = [("dqn", "host", 0.0), ("optimistic_dqn", "xla", 2e-3)]
# Rows compared value by value: those through ``:quick``'s halfway checkpoint (see the test).
VMAPPED_EXACT_THROUGH = 1024


@pytest.fixture(scope="session")
def vmapped_run(tmp_path_factory):
  """``(agent, rollout) -> workdir``: seeds 0 and 1 of ``:quick`` vmapped in one program."""
  made = {}

  def get(agent, rollout):
    if (agent, rollout) not in made:
      config = _quick(agent, rollout=rollout)
      config.num_seeds = 2
      workdir = tmp_path_factory.mktemp(f"vmapped_{agent}_{rollout}") / "run"
      together = train_lib.train(config, str(workdir), progress=False)
      assert sorted(together) == [0, 1]
      made[agent, rollout] = workdir
    return made[agent, rollout]
  return get


def _assert_vmapped_equals_alone(vmapped, alone, rtol):
  """Rows through ``VMAPPED_EXACT_THROUGH`` equal (integers exactly, floats to ``rtol``, 1e-6
  absolute); later rows have the same steps, keys and update counts, which do not depend on the
  trajectory."""
  early = [r for r in alone if r["step"] <= VMAPPED_EXACT_THROUGH]
  assert len(early) >= 2 and early[-1]["updates"] > 0
  _assert_rows_close(vmapped[:len(early)], early, rtol)
  assert [(r["step"], r["updates"], sorted(r)) for r in vmapped] == [
      (r["step"], r["updates"], sorted(r)) for r in alone]


@pytest.mark.parametrize("agent, rollout, rtol", [
    pytest.param(*v, marks=pytest.mark.xdist_group(group(v[0]))) for v in VMAPPED])
def test_vmapped_seeds_equal_each_seed_alone(quick_run, seed1_run, vmapped_run, agent, rollout,
                                             rtol):
  """Seeds 0 and 1 vmapped in one program equal each seed run alone (the xla rollout; so with
  ``host`` this also proves host = xla), through the halfway checkpoint: two log chunks (updates
  from step 256 on).

  vmap batches the networks' matmuls, and XLA:CPU may pick kernels that sum in another order:
  ~1e-7 relative for DQN (2026-11-26 and 2026-12-01), 3.3e-4 for the encoder's metrics (q_mean at
  step 3000 of a 4,000-step run) on the AMD EPYC of 2026-11-26, hence the latent agents' ``rtol``.
  Such a drift is not a bug, but it can flip one greedy action at a near tie, and from there the
  two trajectories part: DQN seed 1 did at step 3000 on two machines of 2026-12-01 (q_mean 1e-3
  apart, then 150 against 152 episodes at 4000). So values are compared only
  through the halfway checkpoint, where no machine has parted them; any wiring fault (a seed's
  key, env seed, replay or metrics given to the other) shows at the first row. Past it, each
  chunk runs the same compiled program, which the resume test below proves exact on its own."""
  both = vmapped_run(agent, rollout) / "seeds"
  _assert_vmapped_equals_alone(rows(both / "0"), rows(quick_run(agent)[0]), rtol)
  _assert_vmapped_equals_alone(rows(both / "1"), rows(seed1_run(agent)), rtol)
  assert rows(both / "0") != rows(both / "1")


@pytest.mark.xdist_group(group("dqn"))
def test_vmapped_seeds_resume(vmapped_run, tmp_path):
  """The host-stepped vmapped run, resumed from its halfway checkpoint on the xla path (the
  rollout may change on resume): its rows, every trajectory count exactly and every float to 1e-6
  (the two paths are two XLA programs, free to sum a metric in another order: q_mean at 2,048 was
  1.5e-8 apart, 2026-12-02, every other value equal)."""
  workdir = vmapped_run("dqn", "host")
  resumed = halfway_copy(workdir, tmp_path / "resumed", 2048)
  config = _quick(rollout="xla")
  config.num_seeds = 2
  train_lib.train(config, str(resumed), progress=False)
  for seed in ("0", "1"):
    _assert_rows_close(rows(resumed / "seeds" / seed), rows(workdir / "seeds" / seed), 1e-6)
