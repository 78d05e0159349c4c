"""One package per feature; each registers its actions, buttons and jobs with the core."""
