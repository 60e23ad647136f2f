"""Offline side of the service: datasets, fitting, evaluation and the model registry writer.

The runtime package ``moderation`` never imports this package.
"""
