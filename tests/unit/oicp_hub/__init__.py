"""The OICP hub in process: dependencies, error answers, models, services."""
