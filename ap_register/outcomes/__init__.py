"""Outcomes: providers scored on the five-outcome framework (`rules`), and schools' movement
profiles (`profiles`). `web` holds the commissioner's pages."""
