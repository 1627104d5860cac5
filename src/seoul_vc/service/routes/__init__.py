"""The service's route modules, one per role, each returning an ``openapi.Section``."""
