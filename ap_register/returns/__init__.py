"""Returns: the statutory outputs built from the register: the AP census (`rules`) and the
children-not-in-school register (`cnis`). `web` holds their pages."""
