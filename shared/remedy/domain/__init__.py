"""The pure core: identities, rules and decisions. No I/O, no client libraries."""
