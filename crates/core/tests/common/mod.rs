//! What the engine tests share: an engine over the in-memory cloud, and a sealed stack.

#![allow(dead_code, clippy::expect_used)]

use std::sync::Arc;

use strata_core::testing::{MemCloud, Mock};
use strata_core::*;

/// An engine over `backend` whose mocks live in `cloud`.
pub fn engine(cloud: &MemCloud, backend: &MemoryBackend) -> Engine {
    let mut r = Registry::new();
    r.register::<Mock>();
    Engine::new(Arc::new(backend.clone()))
        .with_context(Context::new().with(cloud.clone()))
        .with_registry(&r)
}

/// Stack `dev` as `f` declares it, sealed.
pub fn seal(f: impl FnOnce(&mut Stack)) -> SealedStack {
    let mut s = Stack::new("dev");
    f(&mut s);
    s.seal().expect("stack seals")
}
