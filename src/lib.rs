//! strata facade (work in progress)
