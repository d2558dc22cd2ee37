"""The child's record as caseworkers keep it: today, caseloads (which LA officer follows which
child, "my cases", and handing a person's cases and alerts over when they leave)."""
