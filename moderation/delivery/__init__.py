"""Handing work on: the Redis queues, signing, and sending callbacks to sites."""
