"""Bad input is refused before anything is built, compiled or written: one paragraph naming the
offending key or value, no traceback; from the real CLI, exit code 2.

Every case goes through ``train.parse_config`` in-process (what the CLI calls); a few go through
the real CLI too, one per kind of error, to hold the exit-code and one-line contract."""
import os
import subprocess
import sys

import pytest

from goalrl import train
from goalrl.config import ConfigError
from helpers import ROOT, cli, load_experiment, rows

ODQN = "experiments/optimistic_dqn.py:quick"
GOAL = "experiments/goal_agent.py:quick"
RND = "experiments/rnd_dqn.py:quick"
DQN = "experiments/dqn.py:quick"

CASES = [
    # (config, overrides, text the message must contain)
    (DQN, ["--config.env.name=MontezumaRevenge-v4"], "env.name='MontezumaRevenge-v4'"),
    (DQN, ["--config.env.name=MiniGrid-DoorKey-5x5"], "similar: MiniGrid-DoorKey-5x5-v0"),
    # A MuJoCo env whose name ends in -v5 like Atari's: refused, not run as an Atari game.
    (DQN, ["--config.env.name=Ant-v5"], "env.name='Ant-v5' is not an env goalrl supports"),
    (DQN, ["--config.agent.advantage_alpha=1.0"], "agent.advantage_alpha=1.0 must be in [0, 1)"),
    (DQN, ["--config.agent.name=ppo"], "agent.name='ppo'"),
    (DQN, ["--config.foo=1"], "no key 'foo'"),
    (DQN, ["--config.agent.nope=1"], "no key 'nope'"),
    (DQN, ["--config.seed=abc"], "--config.seed=abc"),
    (DQN, ["--config.agent.gamma=high"], "--config.agent.gamma=high"),
    (DQN, ["--config.seed=-1"], "seed=-1"),
    (DQN, ["--config.pictures=2"], "--config.pictures=2: ('Non-boolean argument"),
    (DQN, ["--config.env.num_envs=0"], "env.num_envs=0"),
    (DQN, ["--config.env.name=MontezumaRevenge-v5", "--config.env.oracle_position=True"],
     "True only on MiniGrid"),
    (DQN, ["--config.log_every=999"], "log_every=999 must be a positive multiple of env.num_envs=8"),
    (DQN, ["--config.total_steps=4500"], "total_steps=4500"),
    (DQN, ["--config.checkpoint_every=1500"], "checkpoint_every=1500"),
    (DQN, ["--config.env.rollout=gpu"], "env.rollout='gpu'"),
    (DQN, ["--config.env.actions=left,jump"], "env.actions='left,jump' must be ''"),
    (DQN, ["--config.env.name=Pong-v5", "--config.env.actions=left"], "MiniGrid and BabyAI envs only"),
    (DQN, ["--config.env.repeat_action_probability=1.5"], "env.repeat_action_probability=1.5"),
    (DQN, ["--config.agent.gamma=1.5"], "agent.gamma=1.5 must be in (0, 1]"),
    (DQN, ["--config.agent.gamma=0.0"], "agent.gamma=0.0"),
    (DQN, ["--config.agent.learning_rate=0"], "agent.learning_rate=0"),
    (DQN, ["--config.agent.epsilon_end=2"], "agent.epsilon_end=2"),
    (DQN, ["--config.agent.n_step=0"], "agent.n_step=0"),
    (DQN, ["--config.agent.batch_size=5000"], "agent.batch_size=5000 must be <= agent.replay_size"),
    (DQN, ["--config.agent.learning_starts=8"], "agent.learning_starts=8 must be >= agent.batch_size"),
    (DQN, ["--config.agent.replay_size=16"], "agent.replay_size=16"),
    (DQN, ["--config.agent.weight_reg=l1"], "agent.weight_reg='l1' must be one of"),
    (DQN, ["--config.agent.torso=lstm"], "agent.torso='lstm' must be 'dense' or 'conv'"),
    (RND, ["--config.agent.weight_reg_coef=-1.0"], "agent.weight_reg_coef=-1.0"),
    (DQN, ["--config.agent.replay_size=400000000"], "over memory_budget_gb=20.0"),
    (ODQN, ["--config.agent.optimism.ratio=1.2"], "agent.optimism.ratio=1.2"),
    (ODQN, ["--config.agent.q_input=pixels"], "agent.q_input='pixels' must be one of"),
    (ODQN, ["--config.agent.optimism.counts=position", "--config.agent.optimism.action_coef=0.1"],
     "needs a MiniGrid env"),
    (ODQN, ["--config.agent.optimism.counts=room"], "agent.optimism.counts='room' must be one of"),
    (ODQN, ["--config.agent.q_input=observation"], "which no observation stands for"),
    (ODQN, ["--config.agent.optimism.hash_bits=30"], "agent.optimism.hash_bits=30"),
    (ODQN, ["--config.agent.optimism.action_coef=-1.0"], "agent.optimism.action_coef=-1.0"),
    (ODQN, ["--config.agent.optimism.episode_bits=24"], "agent.optimism.episode_bits=24"),
    (ODQN, ["--config.agent.optimism.counts=position", "--config.agent.optimism.episode_coef=0.1",
            "--config.env.oracle_position=True", "--config.agent.optimism.episode_bits=12"],
     "counting poses per episode"),
    (GOAL, ["--config.agent.optimism.episode_coef=-0.1"], "agent.optimism.episode_coef=-0.1"),
    (ODQN, ["--config.agent.optimism.episode_novelty=novel"],
     "agent.optimism.episode_novelty='novel' must be one of ('count', 'noveld', 'count+noveld')"),
    (GOAL, ["--config.agent.optimism.episode_novelty=noveld",
            "--config.agent.optimism.episode_global=True"], "only 'count' takes episode_global"),
    (ODQN, ["--config.agent.optimism.episode_novelty=count+noveld"],
     "agent.optimism.noveld_coef=0.0 must be a number > 0 with episode_novelty='count+noveld'"),
    (ODQN, ["--config.agent.optimism.noveld_alpha=1.5"], "agent.optimism.noveld_alpha=1.5"),
    (GOAL, ["--config.agent.goal_q_bootstrap=last"], "agent.goal_q_bootstrap='last'"),
    (GOAL, ["--config.agent.actor_n_step=3"],
     "agent.actor_n_step=3 must be an integer in [1, agent.horizon=8], and above 1 only where"),
    (GOAL, ["--config.agent.candidate_source=bank"], "agent.candidate_source='bank' must be one of"),
    (GOAL, ["--config.agent.candidate_source=prior"], "reads the archive's visit counts"),
    (GOAL, ["--config.agent.archive_bits=30"], "agent.archive_bits=30 must be in [1, 24]"),
    (GOAL, ["--config.agent.candidate_source=both", "--config.agent.goal_novelty_coef=0",
            "--config.agent.archive_reach_power=1"], "agent.archive_reach_power=1.0 must be >= 0"),
    (GOAL, ["--config.agent.goal_ablation=off"], "agent.goal_ablation='off' must be one of"),
    (GOAL, ["--config.agent.goal_ablation=noise"], "agent.goal_ablation='noise' makes envs"),
    (GOAL, ["--config.agent.actor_input=pixels"], "agent.actor_input='pixels' must be one of"),
    (GOAL, ["--config.agent.actor_layers=(256,0)"], "agent.actor_layers=(256, 0) must be widths"),
    (GOAL, ["--config.agent.archive_scope=life"], "agent.archive_scope='life' must be one of"),
    (GOAL, ["--config.agent.archive_cells=room"], "agent.archive_cells='room' must be one of"),
    (GOAL, ["--config.agent.archive_cells=situation", "--config.agent.archive_bits=8"],
     "and agent.archive_bits >= 10 (not 8)"),
    (GOAL, ["--config.agent.goal_reach_steps=8", "--config.agent.variant=progress"],
     "agent.goal_reach_steps=8 reads the actor's value"),
    (GOAL, ["--config.agent.goal_reach_top=33"],
     "agent.goal_reach_top=33 must be an integer in [0,"),
    (GOAL, ["--config.agent.exploit_fraction=1.0"], "agent.exploit_fraction=1.0 must be in [0, 1)"),
    (GOAL, ["--config.agent.exploit_fraction=0.01"], "gives 0 exploiting envs"),
    (GOAL, ["--config.agent.task_fraction=0.5", "--config.agent.actor_env_reward=0.0"],
     "need agent.actor_env_reward > 0"),
    (GOAL, ["--config.agent.actor_env_reward=-1.0"], "agent.actor_env_reward=-1.0 must be >= 0"),
    (GOAL, ["--config.agent.task_goal=True", "--config.agent.goal_ablation=zero"],
     "agent.task_goal=True must be True or False, and True"),
    (GOAL, ["--config.agent.task_score=critic"], "agent.task_score='critic' must be one of"),
    (GOAL, ["--config.agent.explore_steps=20", "--config.agent.variant=progress"],
     "agent.explore_steps=20 must be an integer >= 0 (0 = off), and > 0"),
    (GOAL, ["--config.agent.explore_after=always"], "agent.explore_after='always' must be one of"),
    (GOAL, ["--config.agent.explore_first=True"],
     "agent.explore_first=True must be True or False, and True (each episode starts exploring"),
    (GOAL, ["--config.agent.achiever=True"],
     "agent.achiever=True must be True or False, and True (goals pursued by a network"),
    (GOAL, ["--config.agent.actor_position=True"],
     "agent.actor_position=True must be True or False, and True (the actor reads where its goal"),
    (GOAL, ["--config.agent.reach_test=cell", "--config.agent.candidate_source=prior",
            "--config.agent.goal_novelty_coef=0.0"], "'cell' (a goal is reached when"),
    (GOAL, ["--config.agent.reach_test=pose"], "and 'pose' (an oracle) env.oracle_position=True"),
    (GOAL, ["--config.agent.goal_score=amigo", "--config.agent.goal_ablation=random"],
     "agent.goal_score='amigo' must be one of ('q', 'amigo'), and 'amigo' (the teacher learns"),
    (GOAL, ["--config.agent.amigo_start=0"], "agent.amigo_start=0 must be an integer >= 1"),
    (GOAL, ["--config.agent.goal_score=amigo", "--config.agent.amigo_start=30"],
     "agent.amigo_start=30 must be <= agent.max_goal_steps=20"),
    (GOAL, ["--config.agent.distance_pairs=contrastive"],
     "'contrastive' (the learned distance's pairs) needs agent.distance='learned'"),
    (ODQN, ["--config.agent.encoder.train_every=0"], "agent.encoder.train_every=0"),
    (ODQN, ["--config.agent.optimism.source=future"], "agent.optimism.source='future'"),
    (ODQN, ["--config.agent.encoder.regulariser=l2"], "agent.encoder.regulariser='l2'"),
    (ODQN, ["--config.agent.encoder.kernels=(3,3)", "--config.agent.encoder.channels=(8,)",
            "--config.agent.encoder.strides=(1,1)"], "must have the same length"),
    (ODQN, ["--config.agent.encoder.kernels=(8,8,8,8)", "--config.agent.encoder.channels=(32,64,64,64)",
            "--config.agent.encoder.strides=(2,2,1,1)"], "an Atari encoder on a MiniGrid env"),
    (ODQN, ["--config.agent.encoder.stream=lifo"], "agent.encoder.stream='lifo'"),
    (ODQN, ["--config.agent.encoder.grow.branches=-1"], "agent.encoder.grow.branches=-1"),
    (ODQN, ["--config.agent.encoder.grow.ema=1.0"], "agent.encoder.grow.ema=1.0 must be in [0, 1)"),
    (ODQN, ["--config.agent.encoder.grow.branches=1", "--config.agent.encoder.grow.trial_updates=50"],
     "trial_updates=50 must be >= 1 / (1 - ema) = 100"),
    (GOAL, ["--config.agent.weight_reg=l1"], "agent.weight_reg='l1' must be one of"),
    (GOAL, ["--config.agent.num_candidates=0"], "agent.num_candidates=0"),
    (GOAL, ["--config.agent.reach_threshold=-1.0"], "agent.reach_threshold=-1.0"),
    (GOAL, ["--config.agent.variant=wander"], "agent.variant='wander'"),
    (GOAL, ["--config.agent.her_fraction=1.5"], "agent.her_fraction=1.5"),
    (GOAL, ["--config.agent.n_step=20"], "agent.n_step=20 must be in [1, agent.horizon=8]"),
    (RND, ["--config.agent.rnd.beta=-1.0"], "agent.rnd.beta=-1.0"),
    (RND, ["--config.agent.rnd.form=paper"], "agent.rnd.form='paper' is not one of"),
    (RND, ["--config.agent.rnd.gamma=1.0"], "agent.rnd.gamma=1.0 must be in [0, 1)"),
    (RND, ["--config.agent.rnd.extrinsic_coef=0.0", "--config.agent.rnd.intrinsic_coef=0.0"],
     "both 0"),
    (RND, ["--config.agent.advantage_alpha=0.5"], "with agent.rnd.form='two_heads' it must be 0"),
    ("experiments/dqn.py:nope", [], "unknown variant 'nope'"),
    ("experiments/missing.py", [], "experiments/missing.py"),
]


@pytest.mark.parametrize("config, overrides, message", CASES,
                         ids=[" ".join(c[1]) or c[0] for c in CASES])
def test_bad_input_is_refused_with_one_paragraph(tmp_path, config, overrides, message):
  """What the CLI parses, in-process: ``train.parse_config`` is the whole of the CLI's parsing and
  validation, so each case costs no new Python, jax or envpool start-up."""
  workdir = tmp_path / "run"
  with pytest.raises(ConfigError) as err:
    train.parse_config(["goalrl.train", f"--config={os.path.join(ROOT, config)}",
                        f"--workdir={workdir}", *overrides])
  text = str(err.value)
  assert message in text, text
  assert "Traceback" not in text and "\n" not in text, text
  assert not workdir.exists()


# The CLI's contract end to end, in a real process, for each kind of error the parser meets: a
# validation error, an unknown key, a value of the wrong type, a missing file.
CONTRACT = [c for c in CASES if c[1] in (["--config.agent.gamma=1.5"], ["--config.foo=1"],
                                         ["--config.seed=abc"]) or c[0] == "experiments/missing.py"]


@pytest.mark.parametrize("config, overrides, message", CONTRACT,
                         ids=[" ".join(c[1]) or c[0] for c in CONTRACT])
def test_bad_input_exits_2_with_a_clear_message(tmp_path, config, overrides, message):
  workdir = tmp_path / "run"
  proc = cli(workdir, config, *overrides, timeout=120)
  assert proc.returncode == 2, proc.stderr[-2000:]
  assert message in proc.stderr, proc.stderr
  assert "Traceback" not in proc.stderr
  assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
  assert not workdir.exists()


def test_good_command_line_parses_to_the_run_it_names(tmp_path):
  command = train.parse_config(["goalrl.train", f"--config={os.path.join(ROOT, DQN)}",
                                f"--workdir={tmp_path}", "--config.seed=3", "--overwrite"])
  assert command.config.seed == 3 and command.config.agent.name == "dqn"
  assert command.workdir == str(tmp_path) and command.overwrite and not command.debug
  help_text = subprocess.run([sys.executable, "-m", "goalrl.train", "--help"], cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
  assert help_text.returncode == 0 and "--config" in help_text.stdout


@pytest.mark.slow
def test_workdir_of_another_config_is_refused_then_overwritten(tmp_path):
  """A workdir holding another config's run (its config.json, rows and a checkpoint, made here
  without training) is refused by name; ``--overwrite`` deletes that run and trains anew."""
  from goalrl import driver
  workdir = tmp_path / "run"
  base = ["--config.total_steps=1000", "--config.checkpoint_every=1000",
          "--config.pictures=False"]
  old = load_experiment("dqn", "quick")
  old.total_steps, old.checkpoint_every = 1000, 1000
  driver.check_workdir_config(old, str(workdir))
  (workdir / "metrics.jsonl").write_text('{"step": 1000, "episode_return": -1.0}\n')
  (workdir / "checkpoints" / "1000").mkdir(parents=True)
  other = base + ["--config.agent.learning_rate=0.01"]
  proc = cli(workdir, DQN, *other, timeout=300)
  assert proc.returncode == 2 and "agent.learning_rate: 0.0005 -> 0.01" in proc.stderr
  assert "--overwrite" in proc.stderr and "Traceback" not in proc.stderr
  proc = cli(workdir, DQN, *other, "--overwrite", timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert '"learning_rate": 0.01' in (workdir / "config.json").read_text()
  done = rows(workdir)  # the new run's own row, not the old one
  assert [r["step"] for r in done] == [1000] and done[0]["episode_return"] != -1.0


def test_unwritable_workdir_is_a_clear_error():
  proc = cli("/dev/null/run", DQN, timeout=120)
  assert proc.returncode == 2 and "cannot write" in proc.stderr and "Traceback" not in proc.stderr
