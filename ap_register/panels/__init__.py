"""Panels: fair access and placement panels (referrals, meetings, votes, decisions, the gate a
route needs before a placement starts) in `rules`; `web` holds their pages."""
