"""Operations: the config of schedules, sensors, checks and notifications, and the plain-Python logic
behind them (new-data detection, data-quality measurements) — no Dagster here, so it is testable alone."""
