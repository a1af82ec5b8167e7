//! Flow tests: every flow driven through the public API with `Instant`s.
