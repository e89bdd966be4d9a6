"""Session fixtures: runs that many tests only read, made once per test process.

``make test`` runs the suite on both cores (``pytest -n 2 --dist loadgroup``). A test that reads
``quick_run(agent)`` or ``seed1_run(agent)`` carries ``xdist_group(group(agent))``
(``helpers.for_agents`` adds it), so every reader of one agent's runs lands in the worker that
made them. Tests copy a fixture's workdir before writing to it.

Compiling, not running, is what the suite's many short runs spend their time on, so:

* XLA compiles with ``jax_disable_most_optimizations`` (in every worker and CLI subprocess): on a
  ``:quick`` run compile time about halves and the chunks run ~2.5x slower; the whole suite took
  375 s with it against 420 s without (2026-11-27); test_train, test_goal_agent and test_counts
  (58 tests) 1,067 test-seconds with it against 1,157 without (2026-12-02: only the goal agent's
  4k-step runs and the vmapped run are faster optimised). ``GOALRL_TEST_OPTIMIZE=1`` runs the suite
  with XLA's optimisations, to measure that again. Every equivalence test compares runs made under
  the same options, so it compares like with like. ``full_optimizations`` restores XLA's
  optimisations where running dominates: the Atari smokes (the goal agent's took 196 s without
  them, 24 s with them) and the learning test. There the LLVM backend runs at level 1, not 3
  (``XLA_FLAGS``, which the disabled optimisations override with 0): the four Atari smokes took
  38 s against 47 s, the learning test the same (2026-11-30). XLA:CPU's new fusion emitters are
  off (``--xla_cpu_use_fusion_emitters=false``, ``helpers.SUITE_XLA_FLAGS``; CLI subprocesses, the
  forced-device ones included, inherit both flags): a ``:quick`` chunk compiles in about half the
  time (goal agent 15-17 s -> 8-11 s, DQN 5.3 -> 2.4 s, optimistic DQN 10.6 -> 4.9 s) and runs as
  fast; test_goal_agent with test_train's goal-agent, Atari and learning tests took 430 s against
  514 s (2026-12-02, both beside one background run).
* One persistent XLA compilation cache serves the whole session (both workers and every CLI
  subprocess): programs without an envpool step (agent init, the picture snapshot, unit-test jits)
  compile once per session instead of once per run. It keeps every program, however quick to
  compile: the tiny ones of eager code too (each primitive one program, ~40 ms to compile without
  optimisations), which a 0.1 s floor left out (test_goal_agent, test_counts and test_archive:
  1,640 such compiles in 44 s against 1,096 in 29 s, 170 s against 152 s of wall time,
  2026-12-02). The training chunk never hits it (envpool's
  XLA step bakes each pool's handle into the program). The cache is new each session, so a clean
  clone proves exactly what a warm machine does.
"""
import os
import shutil
import tempfile

import jax
import pytest

from goalrl import train as train_lib
from helpers import cli, group, load_experiment, quick_config, quick_flags, suite_xla_flags


CACHE = "JAX_COMPILATION_CACHE_DIR"


def pytest_configure(config):
  if not hasattr(config, "workerinput"):  # the controller: workers inherit its environment
    os.environ[CACHE] = tempfile.mkdtemp(prefix="goalrl-tests-xla-cache-")
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    optimize = os.environ.get("GOALRL_TEST_OPTIMIZE")
    os.environ["JAX_DISABLE_MOST_OPTIMIZATIONS"] = "0" if optimize else "1"
    os.environ["XLA_FLAGS"] = suite_xla_flags(os.environ.get("XLA_FLAGS", ""))
  jax.config.update("jax_compilation_cache_dir", os.environ[CACHE])
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
  jax.config.update("jax_disable_most_optimizations", _disabled())


def _disabled() -> bool:
  return os.environ["JAX_DISABLE_MOST_OPTIMIZATIONS"] == "1"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
  """Slow tests first, unit tests last, so that both workers finish together: ``--dist
  loadgroup`` hands out the groups first (largest first), then the ungrouped tests one at a time
  in collection order. In file order a 15-35 s CLI test (the tiny sweep, the Atari smokes) came
  last and one worker idled ~20 s; seconds-long unit tests at the end fill that gap instead.

  Under ``--dist loadgroup`` every grouped test's id must also carry its group (xdist appends
  ``@group``; with pytest 9.2 and xdist 3.8 it silently did not, so each worker rebuilt the
  session runs its tests read: pytest is pinned to 8.4.2). Fail loudly if that breaks again."""
  items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable
  if not getattr(config.option, "loadgroup", False):
    return
  lost = [i.nodeid for i in items if i.get_closest_marker("xdist_group") and "@" not in i.nodeid]
  if lost:
    raise pytest.UsageError(f"xdist dropped the xdist_group of {len(lost)} tests (e.g. {lost[0]}): "
                            "this pytest and pytest-xdist do not work together; use the pins "
                            "in requirements.lock")


def pytest_unconfigure(config):
  if not hasattr(config, "workerinput"):
    shutil.rmtree(os.environ.pop(CACHE), ignore_errors=True)


@pytest.fixture
def full_optimizations():
  """XLA's default optimisations for this test (in this process), e.g. a long learning run."""
  jax.config.update("jax_disable_most_optimizations", False)
  yield
  jax.config.update("jax_disable_most_optimizations", _disabled())


@pytest.fixture
def experiment():
  return load_experiment


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
  """``agent -> (workdir, CompletedProcess)``: one real CLI run of ``experiments/<agent>.py:quick``
  at ``helpers.QUICK_RUN`` (seed 0, 2,048 env steps, rows every 512, checkpoints at 1,024 and
  2,048). Read-only."""
  made = {}

  def get(agent: str):
    if agent not in made:
      workdir = tmp_path_factory.mktemp(group(agent)) / "run"
      proc = cli(workdir, f"experiments/{agent}.py:quick", *quick_flags())
      assert proc.returncode == 0, proc.stderr[-3000:]
      made[agent] = (workdir, proc)
    return made[agent]
  return get


@pytest.fixture(scope="session")
def seed1_run(tmp_path_factory):
  """``agent -> workdir``: the same run (``helpers.quick_config``) with seed 1, trained in-process.
  Read-only."""
  made = {}

  def get(agent: str):
    if agent not in made:
      config = quick_config(agent)
      config.seed = 1
      workdir = tmp_path_factory.mktemp(f"seed1_{agent}") / "run"
      train_lib.train(config, str(workdir), progress=False)
      made[agent] = workdir
    return made[agent]
  return get
