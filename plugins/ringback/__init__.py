"""ringback: call logs into the warehouse, missed-call re-attribution, reconciliation."""
