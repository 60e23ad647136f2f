"""RQ jobs and the worker process: thin wrappers that load rows, ask the decider, record and hand over."""
