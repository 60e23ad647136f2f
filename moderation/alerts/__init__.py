"""Alerts that reach a moderator: a digest of the held queue by e-mail and chat webhook, with one-tap links."""
