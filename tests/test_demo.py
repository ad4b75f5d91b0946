"""The demo's sizing: the stages' sizes follow the measured speed and the budget."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "demo.py"


@pytest.fixture(scope="module")
def demo():
    spec = importlib.util.spec_from_file_location("augkit_demo", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def speed(demo, factor: float = 1.0):
    """About a quiet 2-core machine, ``factor`` times slower."""
    return demo.Speed(0.015, 0.024, 0.076, 2.5e-4, 4.2e-4).slower(factor)


def test_budget_shares_the_time_left(demo):
    budget = demo.Budget(8)
    total = sum(demo.SHARES.values()) + demo.MARGIN
    assert budget.share("train") == pytest.approx(480 * demo.SHARES["train"] / total, rel=1e-3)
    assert demo.Budget(None).share("train") is None


def test_evaluate_drops_cas_then_samples_as_the_machine_slows(demo):
    def ready(samples, cas):
        return samples == 10_000

    fast = demo.plan_evaluate(speed(demo), 72, ready)
    assert (fast.samples, fast.cas, fast.notes) == (10_000, True, [])
    slow = demo.plan_evaluate(speed(demo, 4), 72, ready)
    assert not slow.cas and any("--cas dropped" in note for note in slow.notes)
    hopeless = demo.plan_evaluate(speed(demo, 100), 72, ready)
    assert hopeless.seconds > 72 and any("over the budget" in n for n in hopeless.notes)


def test_study_steps_shrink_between_ceilings_and_floors(demo):
    plans = [demo.plan_study(speed(demo, factor), 190) for factor in (0.1, 1, 2, 50)]
    assert plans[0][:2] == (1000, 1200)
    assert plans[-1][:2] == (demo.CLASSIFIER_FLOOR, demo.GAN_FLOOR)
    steps = [plan[0] + plan[1] for plan in plans]
    assert steps == sorted(steps, reverse=True) and steps[1] > steps[2]
    assert all(plan[2] <= 190 for plan in plans[:3])


def test_the_gan_gives_way_to_the_later_stages(demo):
    quick = demo.gan_minutes(demo.Budget(8), speed(demo), full=False)[1]
    slow = demo.gan_minutes(demo.Budget(8), speed(demo, 4), full=False)[1]
    assert 60 * slow >= demo.GAN_MIN_SECONDS / 2
    assert quick > slow
    assert demo.gan_minutes(demo.Budget(None), speed(demo), full=True) == (None, 15.0)


def test_hidden_slowdown_and_budget_options(demo):
    args = demo.parse_args(["--budget-minutes", "2", "--slowdown", "4"])
    assert (args.budget_minutes, args.slowdown, args.full) == (2.0, 4.0, False)
    with pytest.raises(SystemExit):
        demo.parse_args(["--budget-minutes", "0"])
