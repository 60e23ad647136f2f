"""Self-hosted comment moderation: the web app, the domain (reading, deciding) and the store; see README, The walk."""
