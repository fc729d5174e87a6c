//! check-expiration
