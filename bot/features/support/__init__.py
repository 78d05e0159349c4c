"""Support: a request for help, its escalation to the team, acknowledge, close, re-escalate and the promises made."""
