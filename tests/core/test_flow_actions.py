"""The application registers an action for every action name the flows use."""

from __future__ import annotations

from bot.app import FEATURES
from flows import catalog
from flows.model import validate
from nlu import INTENTS
from tests.flows.turn import action_names


def test_every_action_the_flows_name_is_registered() -> None:
    assert action_names(catalog()) <= set(FEATURES.actions)
    validate(catalog(), FEATURES.actions, INTENTS)
