"""The dialogue core: the router, the turn, the command table and the registries features fill."""
