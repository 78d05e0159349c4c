"""The one command table: what each /command starts, and its line in the chat's command menu."""

from __future__ import annotations

from dataclasses import dataclass

from flows import text


@dataclass(frozen=True)
class Command:
    name: str  # as typed, without the slash
    intent: str  # what it starts (an intent, a flow, or the core's own "start")

    @property
    def description(self) -> str:
        """Its line in the chat's command menu (common.yml, `command_<name>`)."""
        return text(None, f"command_{self.name}")


COMMANDS = {
    f"/{command.name}": command
    for command in (
        Command("start", "start"),
        Command("help", "help"),
        Command("melden", "report_incident"),
        Command("hulp", "request_support"),
        Command("protocol", "find_protocol"),
        Command("training", "find_training"),
        Command("mijnmeldingen", "case_status"),
        Command("privacy", "privacy"),
        Command("stop", "cancel"),
    )
}


def typed_command(message: str) -> str | None:
    """The command a message starts with ("/melden@WeerbaarBot iets" gives "/melden"), if any."""
    if not message.startswith("/"):
        return None
    return message.split()[0].split("@")[0].lower()
