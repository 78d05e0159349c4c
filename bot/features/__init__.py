"""One package per feature; each declares what it adds to the core (bot.core.features.Feature)
and the application (bot.app.FEATURES) hands them all to the dialogue and the scheduler."""
