"""A stand-in for the trained NLU model: the real safety net for danger, unsure about the rest.

Tests and benchmarks of the support desk use it so they need no trained model; what matters
there is that danger is recognised (it is, by the same rules the bot uses) and that ordinary
answers reach the running flow.
"""

from __future__ import annotations

from nlu import Parse
from nlu.safety import is_emergency


class KeywordNLU:
    """parse(text) -> Parse: `emergency` for danger, else an unsure `out_of_scope`."""

    async def aclose(self) -> None:
        """Nothing to release."""

    async def parse(self, text: str) -> Parse:
        if is_emergency(text):
            intent, confidence, fallback = "emergency", 1.0, False
        else:
            intent, confidence, fallback = "out_of_scope", 0.2, True
        return Parse(
            text=text,
            intent=intent,
            confidence=confidence,
            ranking=((intent, confidence),),
            entities=(),
            source="keywords",
            fallback=fallback,
        )
