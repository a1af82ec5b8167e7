//! The harness that starts real brokers for the integration tests.
