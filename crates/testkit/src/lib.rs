//! strata-testkit: starts a local AWS emulator (moto in server mode) for tests.
//!
//! A dev-dependency only. This crate is a documented shell for now: the emulator harness
//! arrives with the state/local-AWS issue.
