"""How text is read: letters, normalisation, word lists, structural signals, the feature step and its fingerprint."""
