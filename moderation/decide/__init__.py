"""Deciding a comment: moderation states, cheap rules, flood detection, thresholds, and the decider that runs them."""
