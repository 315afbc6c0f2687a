"""Test support, in one visible place: the pytest plugin and what it and the test suites are built from.

* ``plugin``: the pytest11 entry point (``seedream_simulator``, ``seedream_respx``, ``@pytest.mark.seedream``);
* ``_fixtures``: the simulator and respx set-ups behind those fixtures;
* ``_spec_cases``: request and response cases derived from the bundled spec (examples, constraints, hostile ids);
* ``_drift_cases``: answers that drift from the spec, for the drift check and its benchmark;
* ``_schemathesis``: schemathesis set up for this API, with its one allowance (the prose rules).

Nothing is imported here: the plugin loads in every pytest run of a project that installs seedream.
"""
