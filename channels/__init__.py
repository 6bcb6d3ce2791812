"""Provider adapters behind one interface (`base`); the only package that imports provider SDKs.
It never imports `bot`: the composition root (`bot.bootstrap`) builds the adapters."""
