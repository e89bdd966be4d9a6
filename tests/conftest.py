import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_experiment(name: str, variant: str):
  """``experiments/<name>.py:<variant>`` as an unlocked ConfigDict."""
  spec = importlib.util.spec_from_file_location(f"exp_{name}", os.path.join(ROOT, "experiments",
                                                                            f"{name}.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(variant)


@pytest.fixture
def experiment():
  return load_experiment
