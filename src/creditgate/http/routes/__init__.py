"""The routes under `/v1`, one module per family of engine verbs."""
