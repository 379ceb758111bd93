"""The simulator's running state, kept apart from its frozen config."""

from __future__ import annotations

import dataclasses

import structlog

from receiver.devtools.simulator.config import SimulatorConfig, public_view
from receiver.devtools.simulator.lifecycle import Background
from receiver.devtools.simulator.tasks import SimTask

__all__ = ["SimulatorState"]

log = structlog.get_logger()


class SimulatorState:
    """The current config, every task ever created and the asyncio tasks driving them."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.tasks: dict[str, SimTask] = {}
        self.background = Background()

    def reconfigure(self, config: SimulatorConfig) -> None:
        self.config = config
        log.info("simulator.config_changed", config=public_view(config))

    def take_rate_limit(self) -> bool:
        """Whether this create call is one ``rate_limit_next`` still asks to refuse."""
        if self.config.rate_limit_next <= 0:
            return False
        self.config = dataclasses.replace(
            self.config, rate_limit_next=self.config.rate_limit_next - 1
        )
        return True
