"""Command line: train an agent from an ml-collections config, resuming from ``--workdir``.

  python -m goalrl.train --config=experiments/dqn.py:minigrid --workdir=runs/x \
      --config.seed=3 --config.env.name=MiniGrid-DoorKey-5x5-v0

Several hosts: run the same command on each, adding ``--coordinator=HOST0:PORT
--num_processes=P --process_id=i`` (or the ``JAX_*`` environment variables); see ``goalrl.parallel``.

The config is validated once, before any env is built or anything compiles (and before jax is
imported: this module is the CLI; ``goalrl.driver`` runs the training). The run then goes
chunk by chunk (one chunk = ``log_every`` env steps in one compiled call), writing a metrics row
after each and a checkpoint every ``checkpoint_every`` steps. Running the same command again with
the same workdir resumes from the latest checkpoint and gives the same ``metrics.jsonl`` as a run
that never stopped; only ``total_steps``, ``env.rollout`` and ``env.num_threads`` may change
between the two.
"""
from __future__ import annotations

import os
import sys
import traceback
from typing import NamedTuple, Sequence

import ml_collections
from absl import app, flags, logging
from ml_collections import config_flags

from goalrl.config import ConfigError, validate


def define_flags(flag_values: flags.FlagValues, argv: Sequence[str]) -> None:
  """The command line's flags, defined on ``flag_values`` (a fresh set per parse, see
  :func:`parse_config`, so parsing is a pure function that tests can call in-process).
  ml-collections reads the ``--config.KEY`` overrides from ``argv`` (by default: sys.argv)."""
  fv = dict(flag_values=flag_values)
  config_flags.DEFINE_config_file("config", None, "Experiment config file, e.g. "
                                  "experiments/dqn.py:minigrid.", lock_config=True,
                                  sys_argv=list(argv), **fv)
  flags.DEFINE_string("workdir", None, "Directory for logs, checkpoints and plots.", **fv)
  flags.DEFINE_bool("overwrite", False, "Replace a run of a different config in --workdir "
                    "instead of refusing to touch it.", **fv)
  flags.DEFINE_bool("debug", False, "Show tracebacks for config and workdir errors.", **fv)
  flags.DEFINE_string("coordinator", None, "Multi-host: host:port of process 0, for "
                      "jax.distributed (default: $JAX_COORDINATOR_ADDRESS; unset = one process).",
                      **fv)
  flags.DEFINE_integer("num_processes", None, "Multi-host: number of processes (default: "
                       "$JAX_NUM_PROCESSES).", **fv)
  flags.DEFINE_integer("process_id", None, "Multi-host: this process's index (default: "
                       "$JAX_PROCESS_ID).", **fv)
  flags.mark_flags_as_required(["config", "workdir"], **fv)


class Command(NamedTuple):
  """A parsed, validated command line."""
  config: ml_collections.ConfigDict
  workdir: str
  overwrite: bool
  debug: bool
  coordinator: str | None
  num_processes: int | None
  process_id: int | None


def parse_config(argv: Sequence[str]) -> Command:
  """``argv`` (program name first) -> the validated config and the run's options.

  Flags, ``--config=FILE:VARIANT`` loading, ``--config.KEY=VALUE`` overrides and
  :func:`goalrl.config.validate` in one pass: every bad input raises :class:`ConfigError` with one
  paragraph naming the bad value and what is allowed. Nothing is built, compiled or written, and no
  global flag state is touched, so the CLI and the bad-input tests call exactly this.
  """
  fv = flags.FlagValues()
  define_flags(fv, argv)
  try:
    fv(list(argv))
    config = fv["config"].value
    config.get("seed")  # ml-collections loads the file lazily: a missing or broken one fails here
  except flags.Error as err:
    raise ConfigError(f"{one_paragraph(err)} (fix the value or the flag name; --helpfull lists "
                      "the flags)") from err
  except (AttributeError, KeyError) as err:
    overrides = [a for a in argv if a.startswith("--config.")]
    raise ConfigError(
        f"the config has no key {str(err).strip(chr(34))} (overrides given: "
        f"{' '.join(overrides) or 'none'}). The keys a config has are set in its experiment "
        "file's get_config().") from err
  except OSError as err:
    raise ConfigError(f"could not load --config: {one_paragraph(err)}") from err
  except (ValueError, TypeError) as err:
    raise ConfigError(f"could not load the config: {one_paragraph(err)}") from err
  validate(config)
  return Command(config, fv["workdir"].value, fv["overwrite"].value, fv["debug"].value,
                 fv["coordinator"].value, fv["num_processes"].value, fv["process_id"].value)


def train(config, workdir: str, progress: bool = True, overwrite: bool = False):
  """Runs (or resumes) ``config`` in ``workdir``: :func:`goalrl.driver.train`, imported when
  called, so that the CLI validates its flags before jax is imported."""
  from goalrl import driver
  return driver.train(config, workdir, progress=progress, overwrite=overwrite)


def one_paragraph(text: str) -> str:
  """A library's multi-line error (ml-collections embeds tracebacks) as one line of prose."""
  lines = [line.strip() for line in str(text).splitlines() if line.strip()]
  if any(line.startswith("Traceback") for line in lines):
    head = lines[:next(i for i, l in enumerate(lines) if l.startswith("Traceback"))]
    lines = head + lines[-1:]
  return " ".join(lines)


def fail(message: str, debug: bool) -> None:
  """Ends the program with one paragraph on stderr and exit code 2 (traceback with --debug)."""
  if debug:
    traceback.print_exc()
  print(f"error: {one_paragraph(message)}", file=sys.stderr)
  sys.exit(2)


def _flags_parser(argv) -> Command:
  """absl's ``flags_parser``: :func:`parse_config`, with a bad input ending the program (exit 2,
  one paragraph) before anything is built. absl's own flags are not taken."""
  if {"-h", "--help", "--helpfull"} & set(argv):
    fv = flags.FlagValues()
    define_flags(fv, argv)
    print("usage: python -m goalrl.train --config=FILE:VARIANT --workdir=DIR "
          "[--config.KEY=VALUE ...]\n\n" + fv.get_help())
    sys.exit(0)
  flags.FLAGS.mark_as_parsed()
  try:
    return parse_config(argv)
  except ConfigError as err:
    fail(str(err), "--debug" in argv)


def main(command: Command):
  logging.set_verbosity(logging.WARNING)  # orbax logs every save at INFO
  workdir = command.workdir
  from goalrl import driver, parallel  # jax comes in here, after the flags were validated
  try:
    parallel.initialize_distributed(command.coordinator, command.num_processes,
                                    command.process_id)
    train(command.config, workdir, overwrite=command.overwrite)
  except ConfigError as err:
    fail(str(err), command.debug)
  except driver.NonFiniteError as err:
    print(f"error: {err}", file=sys.stderr)
    sys.exit(3)
  except driver.Interrupted as err:
    print(f"interrupted: {err}", file=sys.stderr)
    sys.exit(130)
  except OSError as err:
    fail(f"cannot write the run's outputs ({err.strerror}: {err.filename or workdir}). Check that "
         "--workdir is writable and its disk has space; rerunning the same command resumes from "
         "the last complete checkpoint.", command.debug)
  workdir = os.path.abspath(workdir)
  curves = os.path.join(workdir, "curves.png")
  print(f"metrics:     {os.path.join(workdir, 'metrics.jsonl')}\n"
        f"tensorboard: tensorboard --logdir {os.path.join(workdir, 'tb')}\n"
        + (f"curves:      {curves}\n" if command.config.pictures else "")
        + f"checkpoints: {os.path.join(workdir, 'checkpoints')}")


if __name__ == "__main__":
  app.run(main, flags_parser=_flags_parser)
