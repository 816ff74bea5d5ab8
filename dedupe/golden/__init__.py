"""Golden records: one display value per field from an entity's listings."""
