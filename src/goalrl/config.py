"""The config schema every agent shares, and the one validation pass run before anything compiles.

Jax-free: this module imports nothing of goalrl but ``env_names`` and ``layout`` (both plain
Python), so validating a config (``validate``) imports no jax, envpool or agent code. The allowed values of every
categorical key live here, and the modules that implement them import them from here.

Experiment files (``experiments/*.py``) start from :func:`base_config` and add ``config.agent``.
Top-level keys that users and scripts may rely on for every agent: ``seed``, ``total_steps`` (env
steps), ``log_every``, ``checkpoint_every`` (env steps), ``env.name``, ``env.num_envs``.
"""
from __future__ import annotations

import difflib
import os
import re

import ml_collections

from goalrl.env_names import SUPPORTED as SUPPORTED_ENVS
from goalrl.layout import MINIGRID, MINIGRID_ACTIONS, SITUATIONS, ObsLayout, obs_layout


def _agent_names() -> tuple[str, ...]:
  """The modules of ``goalrl/agents`` that define ``make_agent`` (read as text: importing them
  would import jax): the values ``agent.name`` may take (``goalrl.agents.make_agent``)."""
  folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "agents")
  names = []
  for file in sorted(os.listdir(folder)):
    if file.endswith(".py") and not file.startswith("_"):
      with open(os.path.join(folder, file)) as f:
        if re.search(r"^def make_agent\(", f.read(), re.MULTILINE):
          names.append(file[:-3])
  return tuple(names)


# Allowed values of the categorical keys (the modules named implement them).
AGENTS = _agent_names()  # goalrl.agents.make_agent
WEIGHT_REGS = ("none", "l2", "unit_norm")  # goalrl.regularisers
GOAL_VARIANTS = ("progress", "reach")  # goalrl.goals
CANDIDATE_SOURCES = ("archive", "prior", "replay", "both")  # goalrl.archive, goalrl.goals
DISTANCES = ("latent", "learned")  # goalrl.goals
DISTANCE_PAIRS = ("positive", "contrastive")  # the learned distance's training pairs
GOAL_Q_BOOTSTRAPS = ("first", "bootstrap_row")  # goalrl/agents/goal_agent.py
GOAL_ABLATIONS = ("none", "zero", "random", "noise")  # goalrl/agents/goal_agent.py
STEERED = ("none", "noise")  # the ablations that task phases, exploit envs and the achiever allow
GOAL_SCORES = ("q", "amigo")  # the goal setter's score of its candidates
# With task_goal, the task's score: the actor's max_a Q(s, 0, a) (its reward, intrinsic included)
# or Q(s, 0), the goal-level value of the zero goal (the environment's reward, the goals' scale)
TASK_SCORES = ("actor", "goal_q")
EPISODE_NOVELTIES = ("count", "noveld", "count+noveld")  # episodic novelty's reward (goalrl.counts)
ENCODER_REGULARISERS = ("none", "kl", "mmd")  # goalrl.encoder
STREAM_STRATEGIES = ("reservoir", "fifo")  # goalrl.diverse_replay
GROUP_IMPLS = ("feature_group", "vmap")  # goalrl.networks
OPTIMISM_SOURCES = ("prior", "replay", "both")  # goalrl.optimism
ACTOR_INPUTS = ("latent", "observation")  # the goal agent's actor: what it reads of the state
Q_INPUTS = ("latent", "observation")  # optimistic DQN's Q: what it reads of the state
COUNT_SOURCES = ("observation", "position")  # goalrl.counts.make_counter
ARCHIVE_SCOPES = ("run", "episode")  # goalrl.archive.draw: every fresh cell, or this episode's
# the goal agent's archive cells: a hash of the view, or the agent's situation (MiniGrid)
ARCHIVE_CELLS = ("view", "situation")
# the goal agent's "reached": a distance, the archive cell, or the true pose (an oracle)
REACH_TESTS = ("distance", "cell", "pose")
EXPLORE_AFTER = ("reached", "ended")  # the goal agent's explore phase follows these goal ends


class ConfigError(ValueError):
  """A config value is out of range or inconsistent; raised before any env or compile work."""


def base_config() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.seed = 0
  c.num_seeds = 1  # seeds seed .. seed + num_seeds - 1 run vmapped in one program
  c.total_steps = 100_000
  c.log_every = 5_000
  c.checkpoint_every = 50_000
  c.max_checkpoints = 2  # newest checkpoints kept in the workdir
  c.memory_budget_gb = 20.0  # refuse configs whose replay streams would not fit (0 = no check)
  # Draw visits.png (+ goal_strip.png) after every log row and curves.png at the end (matplotlib,
  # ~0.1-1 s each on a CPU). Numbers do not depend on it, so a run may resume with it changed.
  c.pictures = True
  # Data-parallel training (goalrl.parallel): local devices per process, 0 = all of them.
  c.parallel = ml_collections.ConfigDict(dict(devices=0))
  c.env = ml_collections.ConfigDict(dict(
      name="MiniGrid-Empty-5x5-v0",
      num_envs=16,
      rollout="xla",  # "xla": env step inside the compiled scan; "host": envpool send/recv
      num_threads=0,  # envpool worker threads; 0 = one per core
      max_episode_steps=0,  # 0 = the env's own limit
      repeat_action_probability=0.25,  # Atari v5 sticky actions
      reward_clip=True,  # Atari: clip rewards to {-1, 0, 1}
      # The agent's actions, as comma-separated MiniGrid action names (layout.MINIGRID_ACTIONS),
      # e.g. "left,right,forward,pickup,toggle"; "" = the env's own set; "auto" = the ones the
      # task family needs (layout.TASK_ACTIONS; the env's own set elsewhere). Every agent alike.
      actions="auto",
      # MiniGrid: the observation also carries the agent's cell (``position``), for oracle visit
      # counts (agent.optimism.counts="position"); no network reads it.
      oracle_position=False,
  ))
  return c


# The scale of each shared variant: the env, the run length (total, log, checkpoint env steps) and
# the learner keys every agent family sets alike at that scale. An experiment file adds its own.
SCALES = {
    "minigrid": dict(env=dict(name="MiniGrid-DoorKey-5x5-v0"), run=(400_000, 10_000, 50_000),
                     learner={}),
    "quick": dict(env=dict(num_envs=8), run=(4_000, 1_000, 2_000),  # smoke scale: seconds
                  learner=dict(epsilon_decay_steps=2_000, learning_starts=500,
                               replay_size=4_000, batch_size=32)),
    # 32 envs, 4 updates of 32 per iteration: one update per 8 env steps, as DQN's Atari ratio;
    # 8 envs capped every agent near envpool's 5.8k env steps/s on an H100 (RESULTS.md §1d)
    "atari": dict(env=dict(name="MontezumaRevenge-v5", num_envs=32),
                  run=(10_000_000, 40_000, 400_000),
                  learner=dict(batch_size=32, updates_per_train=4, learning_rate=1e-4,
                               adam_eps=1.5e-4,
                               replay_size=1_000_000, learning_starts=80_000,
                               target_update_every=2_000, epsilon_end=0.01,
                               epsilon_decay_steps=1_000_000)),
}


def experiment(source: str, variant: str, agent, scales: dict | None = None
               ) -> ml_collections.ConfigDict:
  """The one builder of an experiment file's variants: :func:`base_config`, the variant's env and
  run length from ``SCALES`` (or the file's own ``scales``), then ``config.agent =
  agent(variant, learner)`` where ``learner`` holds the scale's shared learner keys for the agent
  defaults to take. ``source`` names the file in the unknown-variant error."""
  table = {**SCALES, **(scales or {})}
  if variant not in table:
    raise ValueError(f"unknown variant {variant!r} of {source}: choose one of "
                     f"{', '.join(repr(v) for v in table)}")
  scale = table[variant]
  c = base_config()
  c.variant = variant
  c.env.update(scale["env"])
  c.total_steps, c.log_every, c.checkpoint_every = scale["run"]
  c.agent = agent(variant, dict(scale["learner"]))
  return c


def dqn_defaults(**overrides) -> ml_collections.ConfigDict:
  """``config.agent`` of the DQN family (DQN, optimistic DQN, RND DQN share these keys)."""
  agent = ml_collections.ConfigDict(dict(
      name="dqn",
      hidden=256,  # torso width (Atari: 512)
      torso="dense",  # MiniGrid observation torso: "dense" (one-hot MLP) | "conv" (2x2 CNN)
      head_layers=(256,),  # dense layers between torso (or latent) and Q head
      gamma=0.99,
      n_step=3,
      batch_size=64,
      learning_rate=5e-4,
      adam_eps=1e-5,
      max_grad_norm=10.0,
      huber_delta=1.0,
      advantage_alpha=0.0,  # advantage learning: > 0 widens the action gap (goalrl.losses)
      replay_size=100_000,  # rows (env steps) kept, over all envs
      learning_starts=2_000,  # env steps before the first update
      train_every=1,  # loop iterations (each = num_envs env steps) between updates
      updates_per_train=1,
      target_update_every=250,  # gradient steps between target copies
      epsilon_start=1.0,
      epsilon_end=0.05,
      epsilon_decay_steps=50_000,  # env steps
      weight_reg="none",  # Q-network kernels: "none" | "l2" (toward 0) | "unit_norm" (toward 1)
      weight_reg_coef=1e-3,  # its weight in the loss (goalrl.regularisers)
  ))
  agent.update(overrides)
  return agent


# The Atari autoencoders. ``note``: the research note's settings (reconstruction loss ~230, no
# KL weight): stride-1 8x8 convolutions at 21x21x64 and their transposes, batch 128. ``nature``
# (the default): the same latent and loss on the Nature-DQN strides (8x8/4, 4x4/2, 3x3/1) and
# their transposes, batch 32, 82x fewer FLOPs per encoder step (benchmarks/atari_encoder.py,
# RESULTS.md §1), and a step size that moves it within a run (the note's 1e-6 left the encoder
# where it started over the few hundred CPU steps of benchmarks/latent_probe.py).
ATARI_ENCODERS = {
    "note": dict(kernels=(8, 8, 8, 8), channels=(32, 64, 64, 64), strides=(2, 2, 1, 1),
                 batch_size=128, learning_rate=1e-6),
    "nature": dict(kernels=(8, 4, 3), channels=(32, 64, 64), strides=(4, 2, 1), batch_size=32,
                   learning_rate=1e-4),
}


def encoder_defaults(kind: str, atari: str = "nature", **overrides) -> ml_collections.ConfigDict:
  """``config.agent.encoder``: the autoencoder and its diverse stream (``goalrl.encoder``).

  Atari: ``ATARI_ENCODERS[atari]`` (``"nature"``, or the note's own ``"note"``), latent 256, no
  latent regulariser (the note's). MiniGrid: a small dense one.
  """
  if kind == "atari":
    enc = dict(**ATARI_ENCODERS[atari], latent=256, hidden=0, regulariser="none",
               reg_weight=0.0, stream_size=100_000)
  else:  # dense: see goalrl/encoder.py for the measured reason
    enc = dict(kernels=(), channels=(), strides=(), hidden=256, latent=32, regulariser="mmd",
               reg_weight=10.0, batch_size=64, learning_rate=1e-3, stream_size=20_000)
  enc.update(train_every=1,  # agent updates per reconstruction step (wall-clock knob; 1 = all)
             stream="reservoir",  # "reservoir" (diverse, whole run) | "fifo" (most recent)
             agent_grads=False,  # True: agent losses also train the encoder
             groups=1,  # conv layers after the first as this many grouped convs (1 = plain)
             group_impl="feature_group")  # "feature_group" | "vmap" (networks.GroupedConv)
  c = ml_collections.ConfigDict(enc)
  c.grow = grow_defaults()
  c.update(overrides)
  return c


def grow_defaults(**overrides) -> ml_collections.ConfigDict:
  """``config.agent.encoder.grow``: freeze-and-grow of the autoencoder (``goalrl.grow``).

  Counts are encoder updates (one per agent update). ``branches=0`` switches it off exactly."""
  c = ml_collections.ConfigDict(dict(
      branches=0,  # residual branches to try in turn in the encoder and the decoder (0 = off)
      width=64,  # hidden units of each branch
      patience=2_000,  # updates without a plateau_tol improvement of the smoothed loss -> trial
      plateau_tol=0.01,  # relative improvement that resets the patience count
      trial_updates=2_000,  # updates a new branch trains before it is judged
      margin=0.02,  # keep it if the smoothed loss fell by this fraction during the trial
      ema=0.99,  # smoothing of the monitored (batch) loss
  ))
  c.update(overrides)
  return c


def optimism_defaults(**overrides) -> ml_collections.ConfigDict:
  """``config.agent.optimism``: synthetic rewarded latents mixed into batches (``goalrl.optimism``)."""
  c = ml_collections.ConfigDict(dict(
      ratio=0.1,  # fraction of each agent batch replaced; 0 = off, exactly
      reward=0.5,  # the optimistic reward they carry
      source="replay",  # "prior" (N(0, I)) | "replay" (replay latents + noise) | "both"
      noise=1.0,  # std of the perturbation of replay latents
      # Optimism that fades with visits (goalrl.counts; optimistic DQN, the goal agent's actor):
      # act on Q + action_coef / (N(s, a) + 1)^count_power and bootstrap on Q + bootstrap_coef /
      # (...), N counted per hash_bits-bit hash of the observation (SimHash on Atari, exact on
      # MiniGrid).
      # Both 0 = off, exactly.
      action_coef=0.0,
      bootstrap_coef=0.0,
      count_power=2.0,
      hash_bits=16,
      # what is counted: "observation" (its hash) | "position" (the oracle: the agent's true pose,
      # MiniGrid with env.oracle_position=True; hash_bits >= 14)
      counts="observation",
      # Episodic novelty (goalrl.counts): arriving at an observation seen N_ep times in this
      # episode earns episode_coef / sqrt(N_ep) (times 1 / sqrt(N + 1), N its lifelong count, with
      # episode_global), added to the env's reward in replay (optimistic DQN) or to the actor's
      # reward (the goal agent: Q(s, g) still values the env's reward alone). Each env counts
      # its episode in 2**episode_bits codes (>= 14 with counts="position"). 0 = off, exactly.
      episode_coef=0.0,
      episode_global=False,
      episode_bits=14,
      # "count": the reward above (NGU/E3B) | "noveld": episode_coef * max(nov(s') -
      # noveld_alpha * nov(s), 0) for a step s -> s' that reaches s' for the first time this
      # episode, nov = 1 / sqrt(N + 1) by the lifelong counts (NovelD; goalrl.counts) |
      # "count+noveld": the first at episode_coef plus the second at noveld_coef
      episode_novelty="count",
      noveld_alpha=0.5,
      noveld_coef=0.0,
  ))
  c.update(overrides)
  return c


def _check(errors: list, ok: bool, message: str):
  if not ok:
    errors.append(message)


def validate(config) -> None:
  """Raises :class:`ConfigError` naming every bad value and what is allowed. Cheap: no jax."""
  e: list[str] = []
  _check(e, isinstance(config.seed, int) and config.seed >= 0,
         f"seed={config.seed!r} must be an integer >= 0")
  _check(e, isinstance(config.num_seeds, int) and config.num_seeds >= 1,
         f"num_seeds={config.num_seeds!r} must be an integer >= 1")
  _check(e, isinstance(config.parallel.devices, int) and config.parallel.devices >= 0,
         f"parallel.devices={config.parallel.devices!r} must be an integer >= 0 (0 = every local "
         "device)")
  env = config.env
  if env.name not in SUPPORTED_ENVS:
    close = difflib.get_close_matches(env.name, SUPPORTED_ENVS, n=5, cutoff=0.6)
    e.append(f"env.name={env.name!r} is not an env goalrl supports (similar: "
             f"{', '.join(close) or 'none'}; goalrl runs envpool's Atari games, whose names end in "
             "'-v5', and its grid worlds, whose names start with 'MiniGrid-' or 'BabyAI-')")
  _check(e, env.num_envs >= 1, f"env.num_envs={env.num_envs} must be >= 1")
  _check(e, env.rollout in ("xla", "host"), f"env.rollout={env.rollout!r} must be 'xla' or 'host'")
  _check(e, env.num_threads >= 0, f"env.num_threads={env.num_threads} must be >= 0")
  _check(e, env.max_episode_steps >= 0,
         f"env.max_episode_steps={env.max_episode_steps} must be >= 0 (0 = the env's own)")
  _check(e, 0.0 <= env.repeat_action_probability <= 1.0,
         f"env.repeat_action_probability={env.repeat_action_probability} must be in [0, 1]")
  if env.actions not in ("", "auto"):
    names = [a.strip() for a in env.actions.split(",")]
    _check(e, _layout(env.name).kind == "minigrid" and set(names) <= set(MINIGRID_ACTIONS)
           and len(set(names)) == len(names),
           f"env.actions={env.actions!r} must be '' (the env's own actions), 'auto' (the ones the "
           f"task needs) or distinct MiniGrid action names joined by commas, from "
           f"{', '.join(MINIGRID_ACTIONS)} (MiniGrid and BabyAI envs only)")
  oracle = env.get("oracle_position", False)
  _check(e, oracle is False or (oracle is True and _layout(env.name).kind == "minigrid"),
         f"env.oracle_position={oracle!r} must be True or False, and True only on MiniGrid and "
         f"BabyAI envs (not {env.name!r}): it adds the agent's cell to the observation")
  n = max(env.num_envs, 1)
  _check(e, config.log_every > 0 and config.log_every % n == 0,
         f"log_every={config.log_every} must be a positive multiple of env.num_envs={n}")
  _check(e, config.total_steps > 0 and config.log_every > 0
         and config.total_steps % config.log_every == 0,
         f"total_steps={config.total_steps} must be a positive multiple of "
         f"log_every={config.log_every}")
  _check(e, config.checkpoint_every > 0 and config.log_every > 0
         and config.checkpoint_every % config.log_every == 0,
         f"checkpoint_every={config.checkpoint_every} must be a positive multiple of "
         f"log_every={config.log_every}")
  _check(e, config.max_checkpoints >= 1, f"max_checkpoints={config.max_checkpoints} must be >= 1")
  _check(e, isinstance(config.pictures, bool),
         f"pictures={config.pictures!r} must be True or False")
  _check(e, config.memory_budget_gb >= 0,
         f"memory_budget_gb={config.memory_budget_gb} must be >= 0 (0 = no check)")
  if config.agent.name not in AGENTS:
    e.append(f"agent.name={config.agent.name!r} must be one of {sorted(AGENTS)}")
  else:
    e.extend(goal_agent_errors(config) if config.agent.name == "goal_agent"
             else dqn_errors(config))
    if "encoder" in config.agent:
      e.extend(encoder_errors(config.agent.encoder, config.env.name))
    if "optimism" in config.agent:
      e.extend(optimism_errors(config.agent.optimism))
      o = config.agent.optimism
      source = o.get("counts", "observation")
      _check(e, source in COUNT_SOURCES,
             f"agent.optimism.counts={source!r} must be one of {COUNT_SOURCES}")
      _check(e, source != "position" or (
          config.env.get("oracle_position", False) and o.get("hash_bits", 16) >= 14
          and _layout(config.env.name).kind == "minigrid"),
             f"agent.optimism.counts='position' counts the agent's true pose (16384 codes): it "
             f"needs a MiniGrid env (not {config.env.name!r}) with env.oracle_position=True "
             f"(not {config.env.get('oracle_position', False)}) and agent.optimism.hash_bits "
             f">= 14 (not {o.get('hash_bits', 16)})")
      _check(e, source != "position" or o.get("episode_coef", 0.0) == 0
             or o.get("episode_bits", 14) >= 14,
             f"agent.optimism.episode_bits={o.get('episode_bits')}: counting poses per episode "
             "(counts='position', 16384 codes) needs episode_bits >= 14")
    if config.agent.name == "optimistic_dqn":
      q_input = config.agent.get("q_input", "latent")
      _check(e, q_input in Q_INPUTS, f"agent.q_input={q_input!r} must be one of {Q_INPUTS}")
      _check(e, q_input != "observation" or o.ratio == 0,
             f"agent.q_input='observation' reads observations, and agent.optimism.ratio={o.ratio} "
             "mixes in synthetic latents, which no observation stands for: set "
             "agent.optimism.ratio=0 (optimism then comes from action_coef / bootstrap_coef)")
    if "rnd" in config.agent:
      e.extend(rnd_errors(config.agent.rnd))
      _check(e, config.agent.rnd.form != "two_heads" or config.agent.advantage_alpha == 0,
             f"agent.advantage_alpha={config.agent.advantage_alpha} is built for one Q head; "
             "with agent.rnd.form='two_heads' it must be 0 (or use form='bonus')")
  if not e and config.memory_budget_gb > 0:
    need = replay_bytes(config) * config.num_seeds
    _check(e, need <= config.memory_budget_gb * 1e9,
           f"the replay streams need {need / 1e9:.2f} GB (agent replay "
           f"{config.agent.replay_size:,} rows" + (f", encoder stream "
           f"{config.agent.encoder.stream_size:,} observations" if "encoder" in config.agent
           else "") + f", times num_seeds={config.num_seeds}), over memory_budget_gb={config.memory_budget_gb}; shrink them or raise "
           "the budget")
  if e:
    raise ConfigError("Invalid config: " + "; ".join(e) + ".")


def _layout(env_name: str) -> ObsLayout:
  """The env's observation layout; a grid world's where the name is of no family goalrl runs
  (that name is reported by its own check, and the size checks still run)."""
  try:
    return obs_layout(env_name)
  except ValueError:
    return MINIGRID


def replay_bytes(config) -> int:
  """Bytes the agent replay and encoder stream will allocate (``goalrl.replay`` row layout)."""
  layout = _layout(config.env.name)
  row = layout.frame_bytes() + 1 + 4 + 3  # action, reward, terminated/truncated/first
  if config.agent.name == "goal_agent":
    row += 4 * config.agent.encoder.latent  # the goal stored with each row
    row += 4 * (config.agent.candidate_source == "archive")  # ... and its archive cell
  total = row * config.agent.replay_size
  if "encoder" in config.agent:
    total += layout.obs_bytes() * config.agent.encoder.stream_size
  return total


def dqn_errors(config) -> list[str]:
  a, e = config.agent, []
  stack = _layout(config.env.name).stack
  _common_learner_errors(a, e)
  need = (stack + a.n_step) * max(config.env.num_envs, 1)
  _check(e, a.replay_size >= need,
         f"agent.replay_size={a.replay_size} must be >= (frame stack {stack} + n_step "
         f"{a.n_step}) * env.num_envs = {need}")
  _check(e, a.hidden >= 1, f"agent.hidden={a.hidden} must be >= 1")
  _check(e, a.torso in ("dense", "conv"),
         f"agent.torso={a.torso!r} must be 'dense' or 'conv'")
  _check(e, 0.0 <= a.advantage_alpha < 1.0,
         f"agent.advantage_alpha={a.advantage_alpha} must be in [0, 1) (0 = plain double DQN)")
  return e


def _common_learner_errors(a, e) -> None:
  _check(e, a.batch_size <= a.replay_size,
         f"agent.batch_size={a.batch_size} must be <= agent.replay_size={a.replay_size}")
  _check(e, a.learning_starts >= a.batch_size,
         f"agent.learning_starts={a.learning_starts} must be >= agent.batch_size={a.batch_size} "
         "(the first updates would sample the same few transitions over and over)")
  _check(e, 0.0 < a.gamma <= 1.0, f"agent.gamma={a.gamma} must be in (0, 1]")
  _check(e, a.n_step >= 1, f"agent.n_step={a.n_step} must be >= 1")
  _check(e, a.batch_size >= 1, f"agent.batch_size={a.batch_size} must be >= 1")
  _check(e, a.learning_rate > 0, f"agent.learning_rate={a.learning_rate} must be > 0")
  _check(e, a.train_every >= 1, f"agent.train_every={a.train_every} must be >= 1")
  _check(e, a.updates_per_train >= 1, f"agent.updates_per_train={a.updates_per_train} must be >= 1")
  _check(e, a.target_update_every >= 1,
         f"agent.target_update_every={a.target_update_every} must be >= 1")
  _check(e, a.learning_starts >= 0, f"agent.learning_starts={a.learning_starts} must be >= 0")
  for k in ("epsilon_start", "epsilon_end"):
    _check(e, 0.0 <= a[k] <= 1.0, f"agent.{k}={a[k]} must be in [0, 1]")
  _check(e, a.epsilon_decay_steps >= 1,
         f"agent.epsilon_decay_steps={a.epsilon_decay_steps} must be >= 1")
  _check(e, a.weight_reg in WEIGHT_REGS,
         f"agent.weight_reg={a.weight_reg!r} must be one of {WEIGHT_REGS}")
  _check(e, a.weight_reg_coef >= 0, f"agent.weight_reg_coef={a.weight_reg_coef} must be >= 0")


def goal_agent_defaults(kind: str, **overrides) -> ml_collections.ConfigDict:
  """``config.agent`` of the goal agent (``experiments/goal_agent.py``; checks below); ``kind``:
  ``"minigrid"``, ``"atari"`` or ``"atari_note"`` (the note's Atari encoder)."""
  agent = ml_collections.ConfigDict(dict(
      name="goal_agent",
      variant="reach",  # "progress": reward = distance decrease, new goal each step
      num_candidates=32,
      # "archive": reached states, rarely visited cells preferred (goalrl.archive) | "prior":
      # N(0, I) | "replay": the bank of recently encoded states | "both": half prior, half bank
      # (the note's)
      candidate_source="archive",
      archive_bits=16,  # 2**bits archive cells (goalrl.counts' hash of the observation)
      archive_power=0.5,  # draw cells with probability (visits + 1)^-power (0 = uniformly)
      archive_scope="run",  # "episode": each env draws among cells it visited this episode only
      # "view": a cell per view (goalrl.counts' hash) | "situation": per situation, what the agent
      # carries and faces (MiniGrid; goalrl.envs.minigrid_situation), which recurs across layouts
      archive_cells="view",
      goal_novelty_coef=0.1,  # the setter keeps argmax Q(s, g) + coef / sqrt(visits(g) + 1)
      # > 0: that novelty times ((reached + 1) / (chosen + 1)) ** power, the goals chosen from and
      # reached in g's cell: goals chosen and not reached fade (goalrl.archive; 0 = off, exactly)
      archive_reach_power=0.0,
      # the setter's score: "q" (Q(s, g), the note's) | "amigo" (AMIGo's teacher T(s, g), learned
      # from whether goals were reached in >= t* steps: goalrl.teacher; archive goals, "reach")
      goal_score="q",
      amigo_records=4_096,  # the teacher's ring of recorded goals
      amigo_start=7,  # t* at the start (AMIGo's)
      amigo_easy_count=64,  # t* rises by one after this many goals reached in fewer than t* steps
      # > 0: only candidates the actor values >= actor_gamma ** steps (MEGA's reachability filter)
      goal_reach_steps=0,
      # > 0: only this many candidates, those the actor (or achiever) values most (MEGA's by rank)
      goal_reach_top=0,
      bank_size=4_096,  # recently encoded real states offered as "replay"/"both" candidates
      reach_threshold=2.0,  # latent distance (or learned steps) counting as reached
      # "distance": a goal is reached when its distance is under reach_threshold | "cell": when
      # the observation's archive cell is the goal's (Go-Explore's cells; archive goals, "reach")
      # | "pose": when the agent stands at the goal's true cell and heading, whatever else changed
      # in the view (an oracle: MiniGrid with env.oracle_position)
      reach_test="distance",
      abandon_on_q=False,  # True (the note's): Q(s, g) under abandon_threshold abandons the goal
      abandon_threshold=0.02,
      max_goal_steps=20,  # a goal this old is abandoned
      actor_env_reward=1.0,  # the actor's reward: intrinsic + this x environment reward (note: 0)
      # the actor's state: "latent" (the note's) | "observation" (its own torso, width ``hidden``)
      actor_input="latent",
      hidden=256,
      # "zero": the actor sees no goal, earns env reward only | "random": the setter picks any
      # candidate, not the best by Q(s, g) | "noise": envs on goals act uniformly at random (the
      # goal phases kept, the goals steering nothing) | "none"
      goal_ablation="none",
      # Exploit mode (NGU/Agent57's exploit member): this share of envs (the first
      # round(fraction * num_envs)) acts with the zero goal, on the task alone; their actor rows
      # are task rows (zero goal, environment reward only) unless HER relabels them. 0 = off.
      exploit_fraction=0.0,
      # This share of the other actor rows is relabelled to the task too (zero goal, env reward
      # only), so the exploit policy learns off-policy from the explorers' data. 0 = off.
      task_fraction=0.0,
      # True: the setter weighs the task itself (the zero goal, valued by the actor's
      # max_a Q(s, 0, a)) against its goals (Q(s, g) + novelty); an env that picks it acts on the
      # task until it picks again (episode start or max_goal_steps). False = off.
      task_goal=False,
      # The task's score against the goals' Q(s, g) + novelty: "actor" (max_a Q_actor(s, 0, a),
      # which holds the actor's intrinsic reward: novelty, OPIQ's bootstrap bonus) or "goal_q"
      # (Q(s, 0): the environment's reward only, the goals' own scale; RESULTS §29)
      task_score="actor",
      # Go-Explore's return-then-explore: > 0, an env whose goal ends (explore_after "reached", or
      # "ended": reached or abandoned) acts on the task (zero goal, task rows; with
      # optimism.action_coef > 0 the counts choose its actions) until its age reaches this (as a
      # goal's max_goal_steps) or its episode ends, then picks a goal again.
      explore_steps=0,  # 0 = off
      explore_after="reached",
      # True (with explore_steps > 0): each episode starts with an explore phase, so its first goal
      # is drawn after explore_steps steps, among views of the layout the env is in
      explore_first=False,
      # False: OPIQ's action bonus (optimism.action_coef) acts only on envs acting on the task
      # (explore phases, the chosen task, exploit envs); a goal is pursued on Q(s, g, .) alone,
      # as Go-Explore returns without exploring
      goal_counts=True,
      task_her=True,  # HER may relabel task rows with reached states (False: they stay task rows)
      distance="latent",  # "learned": a distance network estimates steps to the goal
      # the learned distance's pairs: "positive" (a state and a later one of its episode, as
      # measured) | "contrastive" (also each state with itself, 0 steps, and with another window's
      # state, 2 * horizon steps)
      distance_pairs="positive",
      her_fraction=0.5,  # actor samples relabelled with a future state's latent (0 = off)
      horizon=8,  # window rows after the first: n-step, HER future and distance range
      n_step=3,  # Q(s, g) n-step return (<= horizon)
      # the actor's n-step return (<= horizon), where it learns the task alone from every row
      # (achiever=True, or goal_ablation='zero'): the env's reward and episodic novelty summed over
      # n rows, OPIQ's bootstrap bonus at the n-th; 1 = the 1-step learner measured until 2026-12-02
      actor_n_step=1,
      # Q(s, g)'s bootstrap goal: "first" (the note's: the goal of the window's first row, held
      # along it) | "bootstrap_row" (the goal in force at the bootstrap row: goals can chain)
      goal_q_bootstrap="first",
      goal_q_her=0.0,  # Q(s, g) rows relabelled with a later reached state (0 = off; RESULTS §30)
      gamma=0.99,  # Q(s, g): discount of environment reward
      actor_gamma=0.9,  # actor: discount of intrinsic reward
      head_layers=(256, 256),  # Q(s, g) and distance networks: dense layers before the output
      # the actor's dense layers before its action head (DQN's network has one of 256): on
      # DoorKey-8x8 with counts and goals disabled, one layer did no better than two (RESULTS §16)
      actor_layers=(256, 256),
      actor_zero_head=False,  # True: the actor's action values start at exactly 0
      # True (an oracle, MiniGrid with env.oracle_position): the actor (and the achiever) also
      # reads where its goal's true pose lies from its own (steps ahead, to the right, the turn):
      # the ceiling of goal reaching from views and latents (RESULTS §19)
      actor_position=False,
      # True (LEXA's achiever): goals are pursued by a network of its own, trained to reach states
      # reached later (HER, every row) on the reach reward alone; the actor, acting on the task
      # (explore phases, the chosen task, exploit envs), learns the task from every row
      achiever=False,
      # the achiever's discount (0 = actor_gamma). At 0.99 the values of reaching a goal 3 or 5
      # steps away differ by 2%: the achiever's greedy actions were arbitrary (RESULTS §19)
      achiever_gamma=0.0,
      # True: goal rows whose own state already reaches their goal (a HER goal that is this very
      # view, the agent having acted without changing it) stay out of the actor's and achiever's
      # loss. Acting never holds a goal it stands on (reached is tested first); such rows teach
      # that any action leaving the view as it is (pickup, toggle, done) reaches (RESULTS §19)
      skip_reached_rows=False,
      batch_size=64,
      learning_rate=5e-4,
      adam_eps=1e-5,
      max_grad_norm=10.0,
      huber_delta=1.0,
      replay_size=200_000,
      learning_starts=2_000,
      train_every=1,
      updates_per_train=1,
      target_update_every=250,
      epsilon_start=1.0,
      epsilon_end=0.05,
      epsilon_decay_steps=100_000,
      weight_reg="none",  # goal_q/actor/distance kernels: "none" | "l2" | "unit_norm" (toward 1)
      weight_reg_coef=1e-3,
  ))
  agent.encoder = encoder_defaults("atari" if kind.startswith("atari") else kind,
                                   **({"atari": "note"} if kind == "atari_note" else {}))
  # Off by default: the synthetic goals are off the data and never fade (the exploration issue);
  # the archive's novelty term is the goal agent's optimism. GOAL_NOTE_DESIGN turns them back on.
  agent.optimism = optimism_defaults(ratio=0.0)
  agent.update(overrides)
  return agent


# The goal agent as the research note designed it (commit 81aed7c): candidates half from the prior,
# half from the bank, synthetic optimistic goals, abandonment on low Q(s, g), an actor rewarded by
# its goals only. ``experiments/goal_agent.py:note`` applies it.
GOAL_NOTE_DESIGN = dict(candidate_source="both", goal_novelty_coef=0.0, abandon_on_q=True,
                        actor_env_reward=0.0, actor_input="latent", optimism=dict(ratio=0.1))
# Optimistic DQN as the note designed it: Q on latents, synthetic terminal rows, no visit counts
# (the defaults until 2026-11-30; ``experiments/optimistic_dqn.py:note``).
OPTIMISTIC_NOTE_DESIGN = dict(q_input="latent",
                              optimism=dict(ratio=0.1, action_coef=0.0, bootstrap_coef=0.0))


def goal_agent_errors(config) -> list[str]:
  a, e = config.agent, []
  _common_learner_errors(a, e)
  _check(e, a.variant in GOAL_VARIANTS, f"agent.variant={a.variant!r} must be one of "
         f"{GOAL_VARIANTS}")
  _check(e, all(isinstance(w, int) and w >= 1 for w in a.get("actor_layers", ())),
         f"agent.actor_layers={a.get('actor_layers')} must be widths >= 1 of the actor's dense "
         "layers before its action head, e.g. (256,); () = the head alone")
  _check(e, a.candidate_source in CANDIDATE_SOURCES,
         f"agent.candidate_source={a.candidate_source!r} must be one of {CANDIDATE_SOURCES}")
  _check(e, a.distance in DISTANCES,
         f"agent.distance={a.distance!r} must be one of {DISTANCES}")
  _check(e, a.get("distance_pairs", "positive") in DISTANCE_PAIRS and (
      a.get("distance_pairs", "positive") == "positive" or a.distance == "learned"),
         f"agent.distance_pairs={a.get('distance_pairs')!r} must be one of {DISTANCE_PAIRS}, and "
         f"'contrastive' (the learned distance's pairs) needs agent.distance='learned' (not "
         f"{a.distance!r})")
  _check(e, a.num_candidates >= 1, f"agent.num_candidates={a.num_candidates} must be >= 1")
  _check(e, a.bank_size >= 1, f"agent.bank_size={a.bank_size} must be >= 1")
  _check(e, 1 <= a.get("archive_bits", 16) <= 24,
         f"agent.archive_bits={a.get('archive_bits')} must be in [1, 24] (2**bits cells)")
  _check(e, a.get("archive_power", 0.5) >= 0,
         f"agent.archive_power={a.get('archive_power')} must be >= 0 (0 = uniform over cells)")
  _check(e, a.get("archive_reach_power", 0.0) >= 0 and (
      a.get("archive_reach_power", 0.0) == 0 or a.candidate_source == "archive"),
         f"agent.archive_reach_power={a.get('archive_reach_power')} must be >= 0 (0 = off), and "
         f"> 0 (the archive's goals reached per goal chosen) needs "
         f"agent.candidate_source='archive' (not {a.candidate_source!r})")
  _check(e, a.get("goal_novelty_coef", 0.0) >= 0,
         f"agent.goal_novelty_coef={a.get('goal_novelty_coef')} must be >= 0 (0 = off)")
  _check(e, a.get("goal_novelty_coef", 0.0) == 0 or a.candidate_source == "archive",
         f"agent.goal_novelty_coef={a.get('goal_novelty_coef')} reads the archive's visit counts: "
         f"it needs agent.candidate_source='archive' (not {a.candidate_source!r}), or 0")
  _check(e, a.get("actor_env_reward", 0.0) >= 0,
         f"agent.actor_env_reward={a.get('actor_env_reward')} must be >= 0 (0 = the note's actor, "
         "rewarded by its goals only)")
  _check(e, 0.0 <= a.get("goal_q_her", 0.0) <= 1.0,
         f"agent.goal_q_her={a.get('goal_q_her')} must be in [0, 1] (0 = off)")
  _check(e, a.get("archive_scope", "run") in ARCHIVE_SCOPES and (
      a.get("archive_scope", "run") == "run" or a.candidate_source == "archive"),
         f"agent.archive_scope={a.get('archive_scope')!r} must be one of {ARCHIVE_SCOPES}, and "
         f"'episode' needs agent.candidate_source='archive' (not {a.candidate_source!r})")
  cells = a.get("archive_cells", "view")
  _check(e, cells in ARCHIVE_CELLS and (cells == "view" or (
      a.candidate_source == "archive" and _layout(config.env.name).kind == "minigrid"
      and 2 ** a.get("archive_bits", 16) >= SITUATIONS)),
         f"agent.archive_cells={cells!r} must be one of {ARCHIVE_CELLS}; 'situation' (cells by "
         f"what the agent carries and faces) needs agent.candidate_source='archive' (not "
         f"{a.candidate_source!r}), a MiniGrid env (not {config.env.name!r}) and "
         f"agent.archive_bits >= {SITUATIONS.bit_length() - 1} (not "
         f"{a.get('archive_bits', 16)})")
  _check(e, a.get("actor_input", "latent") in ACTOR_INPUTS,
         f"agent.actor_input={a.get('actor_input')!r} must be one of {ACTOR_INPUTS}")
  _check(e, a.get("hidden", 256) >= 1, f"agent.hidden={a.get('hidden')} must be >= 1")
  reach_steps = a.get("goal_reach_steps", 0)
  _check(e, isinstance(reach_steps, int) and reach_steps >= 0,
         f"agent.goal_reach_steps={reach_steps!r} must be an integer >= 0 (0 = off)")
  _check(e, not reach_steps or (a.variant == "reach" and a.get("goal_ablation", "none") != "zero"),
         f"agent.goal_reach_steps={reach_steps} reads the actor's value of reaching a goal: it "
         f"needs agent.variant='reach' (not {a.variant!r}) and a goal_ablation other than 'zero' "
         f"(not {a.get('goal_ablation', 'none')!r}), or 0")
  reach_top = a.get("goal_reach_top", 0)
  _check(e, isinstance(reach_top, int) and 0 <= reach_top <= a.num_candidates and (
      not reach_top or (a.variant == "reach" and a.get("goal_ablation", "none") != "zero")),
         f"agent.goal_reach_top={reach_top!r} must be an integer in [0, agent.num_candidates="
         f"{a.num_candidates}] (0 = off), and > 0 (the setter keeps this many candidates, those "
         f"the actor values most) needs agent.variant='reach' (not {a.variant!r}) and a goal_ablation "
         f"other than 'zero' (not {a.get('goal_ablation', 'none')!r})")
  _check(e, a.get("goal_ablation", "none") in GOAL_ABLATIONS,
         f"agent.goal_ablation={a.get('goal_ablation')!r} must be one of {GOAL_ABLATIONS}")
  positive = lambda v: isinstance(v, (int, float)) and v > 0  # a bad type has its own check
  # envs that act on the task: what the noise ablation and the achiever both need
  task_steps = bool(a.get("task_goal", False)) or any(
      positive(a.get(k, 0)) for k in ("explore_steps", "exploit_fraction"))
  _check(e, a.get("goal_ablation", "none") != "noise" or task_steps,
         "agent.goal_ablation='noise' makes envs on goals act at random, so it needs steps on the "
         f"task: agent.task_goal=True (not {a.get('task_goal', False)!r}), explore_steps > 0 (not "
         f"{a.get('explore_steps', 0)!r}) or exploit_fraction > 0 (not "
         f"{a.get('exploit_fraction', 0.0)!r}); else every step would be random")
  score = a.get("goal_score", "q")
  _check(e, score in GOAL_SCORES and (score == "q" or (
      a.candidate_source == "archive" and a.variant == "reach"
      and a.get("goal_ablation", "none") == "none")),
         f"agent.goal_score={score!r} must be one of {GOAL_SCORES}, and 'amigo' (the teacher learns "
         "from which archive goals were reached, and when) needs agent.candidate_source='archive' "
         f"(not {a.candidate_source!r}), variant='reach' (not {a.variant!r}) and "
         f"goal_ablation='none' (not {a.get('goal_ablation', 'none')!r})")
  for k in ("amigo_records", "amigo_start", "amigo_easy_count"):
    v = a.get(k, 1)
    _check(e, isinstance(v, int) and v >= 1, f"agent.{k}={v!r} must be an integer >= 1")
  _check(e, score != "amigo" or a.get("amigo_start", 1) <= a.max_goal_steps,
         f"agent.amigo_start={a.get('amigo_start')!r} must be <= agent.max_goal_steps="
         f"{a.max_goal_steps}: a goal older than that is abandoned, so no goal would earn the "
         "teacher's reward")
  exploit = a.get("exploit_fraction", 0.0)
  _check(e, isinstance(exploit, (int, float)) and 0.0 <= exploit < 1.0,
         f"agent.exploit_fraction={exploit!r} must be in [0, 1): the share of envs acting on the "
         "task alone (0 = off; 1 would be goal_ablation='zero')")
  _check(e, not isinstance(exploit, (int, float)) or exploit == 0 or 1 <= round(
      exploit * config.env.num_envs) < config.env.num_envs,
         f"agent.exploit_fraction={exploit} of env.num_envs={config.env.num_envs} gives "
         f"{round(exploit * config.env.num_envs) if isinstance(exploit, (int, float)) else '?'} "
         "exploiting envs: it must give at least one, and leave at least one exploring")
  task = a.get("task_fraction", 0.0)
  _check(e, isinstance(task, (int, float)) and 0.0 <= task <= 1.0,
         f"agent.task_fraction={task!r} must be in [0, 1] (0 = off)")
  _check(e, (exploit == 0 and task == 0) or (
      a.get("actor_env_reward", 0.0) > 0 and a.get("goal_ablation", "none") in STEERED),
         f"agent.exploit_fraction={exploit} and agent.task_fraction={task} train the actor on the "
         f"environment's reward with the zero goal: they need agent.actor_env_reward > 0 (not "
         f"{a.get('actor_env_reward')}) and goal_ablation 'none' or 'noise' (not "
         f"{a.get('goal_ablation', 'none')!r}), or both 0")
  _check(e, isinstance(a.get("task_goal", False), bool) and (
      not a.get("task_goal", False) or (a.get("actor_env_reward", 0.0) > 0 and a.get(
          "goal_ablation", "none") in STEERED and a.variant == "reach")),
         f"agent.task_goal={a.get('task_goal')!r} must be True or False, and True (the setter "
         "weighs the task, valued by the actor's Q(s, 0, .), against its goals) needs "
         f"agent.actor_env_reward > 0 (not {a.get('actor_env_reward')}), goal_ablation 'none' or "
         f"'noise' (not {a.get('goal_ablation', 'none')!r}) and variant='reach' (not "
         f"{a.variant!r}: 'progress' re-picks every step)")
  _check(e, a.get("task_score", "actor") in TASK_SCORES,
         f"agent.task_score={a.get('task_score')!r} must be one of {TASK_SCORES} (read only "
         "with agent.task_goal=True)")
  explore = a.get("explore_steps", 0)
  _check(e, isinstance(explore, int) and explore >= 0 and (not explore or (
      a.get("actor_env_reward", 0.0) > 0 and a.get("goal_ablation", "none") in STEERED
      and a.variant == "reach")),
         f"agent.explore_steps={explore!r} must be an integer >= 0 (0 = off), and > 0 (an env "
         "acts on the task for that many steps after its goal ends) needs agent.actor_env_reward "
         f"> 0 (not {a.get('actor_env_reward')}), goal_ablation 'none' or 'noise' (not "
         f"{a.get('goal_ablation', 'none')!r}) and variant='reach' (not {a.variant!r})")
  _check(e, a.get("explore_after", "reached") in EXPLORE_AFTER,
         f"agent.explore_after={a.get('explore_after')!r} must be one of {EXPLORE_AFTER}")
  _check(e, isinstance(a.get("explore_first", False), bool) and (
      not a.get("explore_first", False) or explore),
         f"agent.explore_first={a.get('explore_first')!r} must be True or False, and True (each "
         "episode starts exploring on the task) needs agent.explore_steps > 0 (not "
         f"{explore!r})")
  _check(e, isinstance(a.get("goal_counts", True), bool),
         f"agent.goal_counts={a.get('goal_counts')!r} must be True or False")
  _check(e, isinstance(a.get("actor_zero_head", False), bool),
         f"agent.actor_zero_head={a.get('actor_zero_head')!r} must be True or False")
  actor_position = a.get("actor_position", False)
  _check(e, isinstance(actor_position, bool) and (not actor_position or (
      config.env.get("oracle_position", False) and a.candidate_source == "archive"
      and a.get("actor_input", "latent") == "observation")),
         f"agent.actor_position={actor_position!r} must be True or False, and True (the actor "
         "reads where its goal's true pose lies from its own) needs env.oracle_position=True (not "
         f"{config.env.get('oracle_position', False)!r}), agent.candidate_source='archive' (not "
         f"{a.candidate_source!r}: goals with cells) and agent.actor_input='observation' (not "
         f"{a.get('actor_input', 'latent')!r})")
  achiever = a.get("achiever", False)
  _check(e, isinstance(achiever, bool) and (not achiever or (
      task_steps and a.get("actor_env_reward", 0.0) > 0
      and a.get("goal_ablation", "none") in STEERED and a.variant == "reach")),
         f"agent.achiever={achiever!r} must be True or False, and True (goals pursued by a "
         "network of their own, the actor on the task) needs envs acting on the task "
         f"(agent.explore_steps > 0, not {explore!r}; or task_goal=True; or exploit_fraction > 0), "
         f"agent.actor_env_reward > 0 (not {a.get('actor_env_reward')}), goal_ablation 'none' or "
         f"'noise' (not {a.get('goal_ablation', 'none')!r}) and variant='reach' (not "
         f"{a.variant!r})")
  _check(e, 0.0 <= a.get("achiever_gamma", 0.0) < 1.0,
         f"agent.achiever_gamma={a.get('achiever_gamma')} must be in [0, 1) (0 = agent.actor_gamma)")
  _check(e, isinstance(a.get("skip_reached_rows", False), bool),
         f"agent.skip_reached_rows={a.get('skip_reached_rows')!r} must be True or False")
  _check(e, isinstance(a.get("task_her", True), bool),
         f"agent.task_her={a.get('task_her')!r} must be True or False")
  reach_test = a.get("reach_test", "distance")
  _check(e, reach_test in REACH_TESTS and (reach_test == "distance" or (
      a.candidate_source == "archive" and a.variant == "reach" and (
          reach_test != "pose" or config.env.get("oracle_position", False)))),
         f"agent.reach_test={reach_test!r} must be one of {REACH_TESTS}; 'cell' (a goal is reached "
         "when the observation's archive cell is the goal's) and 'pose' (when the agent stands at "
         f"the goal's true cell and heading) need agent.candidate_source='archive' (not "
         f"{a.candidate_source!r}) and variant='reach' (not {a.variant!r}), and 'pose' (an oracle) "
         f"env.oracle_position=True (not {config.env.get('oracle_position', False)!r})")
  _check(e, isinstance(a.get("abandon_on_q", True), bool),
         f"agent.abandon_on_q={a.get('abandon_on_q')!r} must be True or False")
  _check(e, a.reach_threshold > 0, f"agent.reach_threshold={a.reach_threshold} must be > 0")
  _check(e, a.max_goal_steps >= 1, f"agent.max_goal_steps={a.max_goal_steps} must be >= 1")
  _check(e, 0.0 <= a.her_fraction <= 1.0, f"agent.her_fraction={a.her_fraction} must be in [0, 1]")
  _check(e, a.get("goal_q_bootstrap", "first") in GOAL_Q_BOOTSTRAPS,
         f"agent.goal_q_bootstrap={a.get('goal_q_bootstrap')!r} must be one of "
         f"{GOAL_Q_BOOTSTRAPS}")
  _check(e, 1 <= a.n_step <= a.horizon,
         f"agent.n_step={a.n_step} must be in [1, agent.horizon={a.horizon}]")
  actor_n = a.get("actor_n_step", 1)
  task_only = achiever or a.get("goal_ablation", "none") == "zero"
  _check(e, isinstance(actor_n, int) and 1 <= actor_n <= a.horizon
         and (actor_n == 1 or task_only),
         f"agent.actor_n_step={actor_n!r} must be an integer in [1, agent.horizon={a.horizon}], and "
         "above 1 only where the actor learns the task alone from every row (agent.achiever=True, "
         f"not {achiever!r}; or goal_ablation='zero', not {a.get('goal_ablation', 'none')!r}): a "
         "goal row's reach reward and its stop at the goal are 1-step")
  _check(e, 0.0 < a.actor_gamma <= 1.0, f"agent.actor_gamma={a.actor_gamma} must be in (0, 1]")
  stack = _layout(config.env.name).stack
  need = (stack + a.horizon) * max(config.env.num_envs, 1)
  _check(e, a.replay_size >= need,
         f"agent.replay_size={a.replay_size} must be >= (frame stack {stack} + horizon "
         f"{a.horizon}) * env.num_envs = {need}")
  return e


def encoder_errors(c, env_name: str) -> list[str]:
  import numpy as np

  e = []
  n = len(c.kernels)
  side = min(_layout(env_name).frame_shape[:2])
  if n and all(int(k) >= 1 for k in (*c.kernels, *c.strides)):
    reduction = int(np.prod([int(s) for s in c.strides]))
    _check(e, max(int(k) for k in c.kernels) <= side and reduction <= side,
           f"agent.encoder kernels={tuple(c.kernels)} with strides={tuple(c.strides)} do not fit "
           f"this env's {side}x{side} observations (largest kernel and product of strides must be "
           f"<= {side}); an Atari encoder on a MiniGrid env?")
  _check(e, len(c.channels) == n and len(c.strides) == n,
         f"agent.encoder.kernels={tuple(c.kernels)}, channels={tuple(c.channels)} and "
         f"strides={tuple(c.strides)} must have the same length (one entry per conv layer)")
  _check(e, all(int(k) >= 1 for k in (*c.kernels, *c.channels, *c.strides)),
         "agent.encoder kernels, channels and strides must all be >= 1")
  _check(e, c.latent >= 1, f"agent.encoder.latent={c.latent} must be >= 1")
  _check(e, c.hidden >= 0, f"agent.encoder.hidden={c.hidden} must be >= 0 (0 = no dense layer)")
  _check(e, c.regulariser in ENCODER_REGULARISERS,
         f"agent.encoder.regulariser={c.regulariser!r} must be one of {ENCODER_REGULARISERS}")
  _check(e, c.reg_weight >= 0, f"agent.encoder.reg_weight={c.reg_weight} must be >= 0")
  _check(e, c.batch_size >= 2, f"agent.encoder.batch_size={c.batch_size} must be >= 2")
  _check(e, c.learning_rate > 0, f"agent.encoder.learning_rate={c.learning_rate} must be > 0")
  _check(e, c.stream in STREAM_STRATEGIES,
         f"agent.encoder.stream={c.stream!r} must be one of {STREAM_STRATEGIES}")
  _check(e, c.stream_size >= 1, f"agent.encoder.stream_size={c.stream_size} must be >= 1")
  every = c.get("train_every", 1)
  _check(e, isinstance(every, int) and every >= 1,
         f"agent.encoder.train_every={every!r} must be an integer >= 1 (agent updates per "
         "reconstruction step; 1 = every update)")
  groups = c.get("groups", 1)
  _check(e, isinstance(groups, int) and groups >= 1
         and all(int(ch) % groups == 0 for ch in c.channels),
         f"agent.encoder.groups={groups!r} must be an integer >= 1 that divides every conv's "
         f"channels={tuple(c.channels)} (1 = plain convolutions)")
  _check(e, c.get("group_impl", "feature_group") in GROUP_IMPLS,
         f"agent.encoder.group_impl={c.get('group_impl')!r} must be one of {GROUP_IMPLS}")
  if c.get("grow") is not None:
    e.extend(grow_errors(c.grow))
  return e


def grow_errors(g) -> list[str]:
  e = []
  for key in ("branches", "width", "patience", "trial_updates"):
    low = 0 if key == "branches" else 1
    _check(e, isinstance(g[key], int) and g[key] >= low,
           f"agent.encoder.grow.{key}={g[key]!r} must be an integer >= {low}"
           + (" (0 = no freeze-and-grow)" if key == "branches" else ""))
  for key in ("plateau_tol", "margin", "ema"):
    _check(e, 0.0 <= g[key] < 1.0, f"agent.encoder.grow.{key}={g[key]!r} must be in [0, 1)")
  if not e and g.branches:
    span = 1.0 / (1.0 - g.ema)  # updates the smoothed loss averages over
    _check(e, g.trial_updates >= span,
           f"agent.encoder.grow.trial_updates={g.trial_updates} must be >= 1 / (1 - ema) = "
           f"{span:.0f} updates, the span of the loss smoothing (ema={g.ema}); otherwise a trial "
           "is judged mostly on losses from before it started")
  return e


def optimism_errors(c) -> list[str]:
  e = []
  _check(e, 0.0 <= c.ratio < 1.0, f"agent.optimism.ratio={c.ratio} must be in [0, 1)")
  _check(e, c.source in OPTIMISM_SOURCES,
         f"agent.optimism.source={c.source!r} must be one of {OPTIMISM_SOURCES}")
  _check(e, c.noise >= 0, f"agent.optimism.noise={c.noise} must be >= 0")
  for key in ("action_coef", "bootstrap_coef", "episode_coef"):
    _check(e, c.get(key, 0.0) >= 0, f"agent.optimism.{key}={c.get(key)} must be >= 0 (0 = off)")
  ebits = c.get("episode_bits", 14)
  _check(e, isinstance(ebits, int) and 1 <= ebits <= 20,
         f"agent.optimism.episode_bits={ebits!r} must be an integer in [1, 20] (each env's episode "
         "table has 2**episode_bits counts)")
  _check(e, c.get("episode_global", False) in (True, False),
         f"agent.optimism.episode_global={c.get('episode_global')!r} must be True or False")
  kind = c.get("episode_novelty", "count")
  _check(e, kind in EPISODE_NOVELTIES and (kind == "count" or not c.get("episode_global", False)),
         f"agent.optimism.episode_novelty={kind!r} must be one of {EPISODE_NOVELTIES}, and "
         "only 'count' takes episode_global (NovelD's reward reads the lifelong counts already)")
  ncoef = c.get("noveld_coef", 0.0)
  _check(e, isinstance(ncoef, (int, float)) and (ncoef > 0) == (kind == "count+noveld"),
         f"agent.optimism.noveld_coef={ncoef!r} must be a number > 0 with "
         "episode_novelty='count+noveld' (NovelD's weight beside the episodic count's "
         "episode_coef) and 0 otherwise (episode_novelty='noveld' weighs NovelD by episode_coef)")
  alpha = c.get("noveld_alpha", 0.5)
  _check(e, isinstance(alpha, (int, float)) and 0 <= alpha <= 1,
         f"agent.optimism.noveld_alpha={alpha!r} must be a number in [0, 1] (NovelD's 0.5: the "
         "share of the previous observation's novelty a step must exceed)")
  _check(e, c.get("count_power", 2.0) > 0,
         f"agent.optimism.count_power={c.get('count_power')} must be > 0")
  bits = c.get("hash_bits", 16)
  _check(e, isinstance(bits, int) and 1 <= bits <= 24,
         f"agent.optimism.hash_bits={bits!r} must be an integer in [1, 24] (the count table has "
         "2**hash_bits rows per action)")
  return e


def rnd_defaults(**overrides) -> ml_collections.ConfigDict:
  """``config.agent.rnd`` of RND-DQN (``experiments/rnd_dqn.py``, ``goalrl/agents/rnd_dqn.py``;
  checks below).

  ``form="two_heads"`` (default) is the paper's: Q has an extrinsic head (episodic, the agent's
  ``gamma``) and an intrinsic head (non-episodic, ``gamma`` below) trained on their own returns;
  the agent acts greedily on ``extrinsic_coef * Q_E + intrinsic_coef * Q_I`` (the paper's
  advantage weights 2 and 1); the intrinsic reward is divided by the running std of the
  discounted intrinsic return. ``form="bonus"`` is goalrl's first form, kept as an option: one
  head, ``beta`` x the reward-normalised bonus added to every env reward, cut at episode ends.
  DoorKey-8x8, 5 seeds, 300k env steps, DQN's settings (RESULTS.md §9): two heads reached 0.9 in
  5/5 seeds (IQM 100k; DQN 137k); the bonus form in 1/5, then collapsed into novelty."""
  c = ml_collections.ConfigDict(dict(
      form="two_heads",  # "two_heads" (the paper's) | "bonus" (one head, bonus in the reward)
      gamma=0.99,  # two_heads: discount of the intrinsic return (non-episodic)
      extrinsic_coef=2.0,  # two_heads: weight of Q_E in acting and in the double-DQN selector
      intrinsic_coef=1.0,  # two_heads: weight of Q_I (0 = act on Q_E alone: no exploration bonus)
      # bonus: weight of the normalised intrinsic reward added to each env reward (mean ~0.2 per
      # step in the first 10k steps of DoorKey, ~0.01 by 50k, against MiniGrid's single success
      # reward of ~0.5-1; positive and episodic, so a large one makes long episodes pay more than
      # the goal. DoorKey-5x5, 2 seeds: 0.1 reached success >= 0.98 by 40-50k, 0.01 by 40k-180k.)
      beta=0.1,
      embedding=64,  # output size of the target and predictor networks
      hidden=256,  # torso width of both RND networks (Atari: 512)
      predictor_layers=(256,),  # extra dense layers of the predictor over the target's shape
      learning_rate=1e-4,  # predictor Adam; lower = novelty wears off more slowly
  ))
  c.update(overrides)
  return c


RND_FORMS = ("two_heads", "bonus")


def rnd_errors(c) -> list[str]:
  """``config.agent.rnd`` of the RND DQN agent (``experiments/rnd_dqn.py``)."""
  e = []
  _check(e, c.form in RND_FORMS,
         f"agent.rnd.form={c.form!r} is not one of {', '.join(repr(f) for f in RND_FORMS)}")
  _check(e, 0 <= c.gamma < 1, f"agent.rnd.gamma={c.gamma} must be in [0, 1)")
  _check(e, c.extrinsic_coef >= 0 and c.intrinsic_coef >= 0,
         f"agent.rnd.extrinsic_coef={c.extrinsic_coef} and agent.rnd.intrinsic_coef="
         f"{c.intrinsic_coef} must be >= 0")
  _check(e, c.extrinsic_coef + c.intrinsic_coef > 0,
         "agent.rnd.extrinsic_coef and agent.rnd.intrinsic_coef are both 0: the agent would act "
         "on nothing; make one of them > 0")
  _check(e, c.beta >= 0, f"agent.rnd.beta={c.beta} must be >= 0 (0 = no bonus)")
  _check(e, c.embedding >= 1, f"agent.rnd.embedding={c.embedding} must be >= 1")
  _check(e, c.hidden >= 1, f"agent.rnd.hidden={c.hidden} must be >= 1")
  _check(e, all(int(w) >= 1 for w in c.predictor_layers),
         f"agent.rnd.predictor_layers={tuple(c.predictor_layers)} must all be >= 1 "
         "(() = none)")
  _check(e, c.learning_rate > 0, f"agent.rnd.learning_rate={c.learning_rate} must be > 0")
  return e


def load_experiment(path: str, variant: str | None) -> ml_collections.ConfigDict:
  """``get_config(variant)`` of an experiment file, as ``--config=path:variant`` would load it
  (unlocked; no variant: the file's default), for scripts and tests that build configs without
  the CLI."""
  import importlib.util
  import os
  spec = importlib.util.spec_from_file_location(
      "experiment_" + os.path.splitext(os.path.basename(path))[0], path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(variant) if variant else module.get_config()
