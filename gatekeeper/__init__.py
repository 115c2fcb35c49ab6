"""The domain layer shared by the kiosk and console apps: models, the log, services."""
