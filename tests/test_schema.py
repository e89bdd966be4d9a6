"""The config schema (``goalrl.config``) stands alone: validating any experiment imports no jax,
``goalrl`` has no import cycle (function-local imports included), and the lists it checks against
match what they describe (envpool's registry, the agent modules); a run's config from before a
key existed still resumes."""
import ast
import json
import os
import subprocess
import sys

import pytest

from helpers import AGENTS, ROOT, load_experiment

SRC = os.path.join(ROOT, "src")


def test_the_cli_and_validating_every_experiment_import_no_jax():
  code = f"""
import importlib.util, sys
from goalrl import config, train  # the CLI module too: it validates before importing jax
for agent in {list(AGENTS)!r}:
  spec = importlib.util.spec_from_file_location(agent, "experiments/" + agent + ".py")
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  own = {{"dqn": ("long",), "rnd_dqn": ("long",), "optimistic_dqn": ("atari_note", "note"),
         "goal_agent": ("atari_note", "note", "archive")}}.get(agent, ())
  for variant in ("minigrid", "quick", "atari") + own:
    config.validate(module.get_config(variant))
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("jax", "jaxlib", "envpool", "flax"))
print(heavy)
"""
  out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": SRC}, check=True).stdout
  assert out.strip() == "[]"


def _imports(path: str, module: str) -> set[str]:
  """goalrl modules imported anywhere in a file (function bodies too), as dotted names;
  ``from pkg import sub`` counts as ``pkg.sub`` where that is a module."""
  found = set()
  for node in ast.walk(ast.parse(open(path).read())):
    if isinstance(node, ast.Import):
      found.update(a.name for a in node.names)
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
      for a in node.names:
        sub = f"{node.module}.{a.name}"
        is_module = os.path.exists(os.path.join(SRC, *sub.split(".")) + ".py")
        found.add(sub if is_module else node.module)
  return {m for m in found if m.split(".")[0] == "goalrl" and m != module}


def test_goalrl_has_no_import_cycle():
  graph = {}
  for folder, _, files in os.walk(os.path.join(SRC, "goalrl")):
    for name in files:
      if name.endswith(".py"):
        path = os.path.join(folder, name)
        parts = os.path.relpath(path, SRC)[:-3].split(os.sep)
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        graph[module] = _imports(path, module)
  assert "goalrl.agents.dqn" in graph["goalrl.agents.rnd_dqn"]  # the scan sees what it should
  state = {}  # module -> "open" while on the DFS stack, "done" after

  def visit(m, stack):
    state[m] = "open"
    for dep in sorted(graph.get(m, ())):
      assert state.get(dep) != "open", "import cycle: " + " -> ".join([*stack, m, dep])
      if dep not in state:
        visit(dep, [*stack, m])
    state[m] = "done"

  for m in sorted(graph):
    if m not in state:
      visit(m, [])


def test_lists_match_what_they_describe():
  from envpool.registration import registry

  import importlib

  from goalrl import config
  assert config.AGENTS == ("dqn", "goal_agent", "optimistic_dqn", "rnd_dqn")  # no helper module
  for name in config.AGENTS:
    assert callable(importlib.import_module(f"goalrl.agents.{name}").make_agent)
  families = ("envpool.atari", "envpool.minigrid")
  assert config.SUPPORTED_ENVS == tuple(sorted(n for n, s in registry.specs.items()
                                               if s[0] in families))


def test_a_run_from_before_a_key_existed_holds_the_value_that_did_what_it_did(tmp_path):
  """A workdir whose ``config.json`` predates ``pictures`` and ``env.actions`` ran with pictures
  and the env's own actions: it resumes with those, and today's ``env.actions="auto"`` (3 actions
  on Empty-5x5) is a change, refused by name."""
  from goalrl import driver
  config = load_experiment("dqn", "quick", pictures=True)
  config.env.actions = ""
  driver.check_workdir_config(config, str(tmp_path))
  old = json.loads((tmp_path / "config.json").read_text())
  del old["pictures"], old["env"]["actions"]
  (tmp_path / "config.json").write_text(json.dumps(old))
  driver.check_workdir_config(config, str(tmp_path))  # the same run
  (tmp_path / "config.json").write_text(json.dumps(old))
  config.env.actions = "auto"
  with pytest.raises(driver.ConfigError, match="env.actions: '' -> 'auto'"):
    driver.check_workdir_config(config, str(tmp_path))


@pytest.mark.parametrize("agent", ["optimistic_dqn", "goal_agent"])
def test_atari_note_is_the_notes_encoder_and_atari_differs_from_it_only_there(agent):
  note = _flatten(load_experiment(agent, "atari_note").to_dict())
  default = _flatten(load_experiment(agent, "atari").to_dict())
  assert {k: note[f"agent.encoder.{k}"] for k in ("kernels", "channels", "strides", "batch_size",
                                                   "learning_rate", "latent", "regulariser")} == {
      "kernels": (8, 8, 8, 8), "channels": (32, 64, 64, 64), "strides": (2, 2, 1, 1),
      "batch_size": 128, "learning_rate": 1e-6, "latent": 256, "regulariser": "none"}
  differ = {k for k in note.keys() | default.keys() if note.get(k) != default.get(k)}
  assert differ == {"variant", *(f"agent.encoder.{k}" for k in (
      "kernels", "channels", "strides", "batch_size", "learning_rate"))}


@pytest.mark.parametrize("agent", ["optimistic_dqn", "goal_agent"])
def test_note_is_the_notes_design_and_differs_from_the_default_only_there(agent):
  from goalrl import config
  design = _flatten({"agent": {"goal_agent": config.GOAL_NOTE_DESIGN,
                               "optimistic_dqn": config.OPTIMISTIC_NOTE_DESIGN}[agent]})
  note = _flatten(load_experiment(agent, "note").to_dict())
  # the goal agent's :note is :archive's (its default until 2026-12-01) with the note's design
  default = _flatten(load_experiment(agent, "archive" if agent == "goal_agent" else "minigrid")
                     .to_dict())
  assert {k: note[k] for k in design} == design
  differ = {k for k in note.keys() | default.keys() if note.get(k) != default.get(k)}
  # optimistic DQN's :note also keeps the learner the note's runs had (16 envs, 5-step targets,
  # Adam 5e-4, epsilon over 100k); its default took DQN's (experiments/optimistic_dqn.py)
  learner = ({"env.num_envs", "agent.n_step", "agent.learning_rate",
              "agent.epsilon_decay_steps"} if agent == "optimistic_dqn" else set())
  assert differ <= {"variant", *design, *learner} and "variant" in differ
  assert len(differ - learner) > 1  # today's agents are not the note's


def test_the_goal_agents_default_is_archive_with_the_achiever_design_and_dqns_learner():
  default = _flatten(load_experiment("goal_agent", "minigrid").to_dict())
  archive = _flatten(load_experiment("goal_agent", "archive").to_dict())
  differ = {k for k in default.keys() | archive.keys() if default.get(k) != archive.get(k)}
  assert differ == {"variant", "env.num_envs", *(f"agent.{k}" for k in (
      "learning_rate", "actor_gamma", "epsilon_decay_steps", "optimism.action_coef",
      "optimism.bootstrap_coef", "reach_test", "explore_steps", "explore_after",
      "explore_first", "goal_counts", "task_her", "achiever", "achiever_gamma",
      "skip_reached_rows", "actor_n_step", "task_goal", "actor_zero_head", "archive_cells",
      "task_score", "goal_q_bootstrap", "goal_q_her", "archive_reach_power"))}
  assert default["env.num_envs"] == 8 and default["agent.achiever"]


def _flatten(d: dict, prefix: str = "") -> dict:
  out = {}
  for k, v in d.items():
    out.update(_flatten(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k: v})
  return out
