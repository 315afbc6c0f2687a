"""The conformance suite: spec, client and any server proven against the one bundled spec."""
