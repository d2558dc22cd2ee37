"""Budgets: the multi-year AP budget of commissioned places and the tier 1 outreach that draws on
it. `rules` (plans, lines, forecasts, capacity at booking), `outreach` (engagements, sessions,
offers of work with a named pupil). `web` holds the budget pages and the outreach pages."""
