"""Per-account usage metrics: declarative definitions, computed by Ibis, stored per date."""
