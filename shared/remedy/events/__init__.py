"""The CloudEvent catalogue: every type remedy consumes and emits, with its data model."""
