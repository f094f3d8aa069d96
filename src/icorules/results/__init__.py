"""Results of a check: findings, waivers and the report."""
