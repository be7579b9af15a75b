//! RDS engine versions as a declaration states them: a major version (`16`), which RDS
//! fills in with its default minor, or a minimum minor version (`16.4`).
//!
//! RDS retires old minor versions (a pinned `14.10` can no longer be created) and, with
//! auto minor version upgrade on, moves a live instance to a newer minor in the
//! maintenance window. AWS never downgrades ("Cannot upgrade postgres from 14.12 to
//! 14.10"), so a declaration read as an exact pin would make every later `up` fail
//! (hashicorp/terraform#22462). Here a declared version is a floor within its major:
//! the live version satisfies it when it has the same major and is not older.

use aws_sdk_rds::error::ProvideErrorMetadata;
use strata_core::aws::api_error;
use strata_core::{Cx, ProviderError};

use crate::rds_common::rds;

/// The numeric parts of a version (`14.10` → `[14, 10]`); `None` when it is not dotted
/// numbers (`11.00.2100.60.v1`).
fn parts(v: &str) -> Option<Vec<u32>> {
    v.split('.').map(|p| p.parse().ok()).collect()
}

/// How many leading parts make the major version: PostgreSQL from 10 on has one (`16`),
/// before 10 two (`9.6`); the other engines two (`8.0`).
fn major_len(engine: &str, parts: &[u32]) -> usize {
    match (engine, parts.first()) {
        ("postgres", Some(&n)) if n >= 10 => 1,
        _ => 2,
    }
}

/// Whether a declared version is well formed for `engine`: dotted numbers for PostgreSQL.
pub(crate) fn well_formed(engine: &str, v: &str) -> bool {
    engine != "postgres" || parts(v).is_some_and(|p| !p.is_empty() && p.len() <= 3)
}

/// Whether the live version `live` satisfies the declared `declared`: the same major,
/// and, when a minor is declared, that minor or a newer one. Versions that are not
/// dotted numbers satisfy only themselves.
pub(crate) fn satisfies(engine: &str, declared: &str, live: &str) -> bool {
    if declared == live {
        return true;
    }
    let (Some(d), Some(l)) = (parts(declared), parts(live)) else {
        return false;
    };
    same_major(engine, declared, live) && l >= d
}

/// Whether RDS refused a create or modify because it offers no such version ("Cannot
/// find version 14.10 for postgres"), or cannot upgrade to it ("Cannot upgrade postgres
/// from 16.13 to 17.6"), `InvalidParameterCombination` both.
pub(crate) fn version_not_offered<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("InvalidParameterCombination")
        && e.message().is_some_and(|m| {
            m.starts_with("Cannot find version") || m.starts_with("Cannot upgrade")
        })
}

/// Whether `a` and `b` have the same major version of `engine`.
fn same_major(engine: &str, a: &str, b: &str) -> bool {
    parts(a).zip(parts(b)).is_some_and(|(a, b)| {
        let m = major_len(engine, &a);
        a.len() >= m && b.len() >= m && a[..m] == b[..m]
    })
}

/// The version to upgrade an instance of `engine` at `live` to for the declaration
/// `declared`: the newest of the live version's valid upgrade targets
/// (DescribeDBEngineVersions) that satisfies it, and whether that is a major version
/// upgrade. An error names the field and the targets RDS offers.
pub(crate) async fn upgrade_target(
    cx: &Cx<'_>,
    engine: &str,
    live: &str,
    declared: &str,
) -> Result<(String, bool), ProviderError> {
    let out = rds(cx)?
        .describe_db_engine_versions()
        .engine(engine)
        .engine_version(live)
        .send()
        .await
        .map_err(api_error("rds:DescribeDBEngineVersions"))?;
    let targets: Vec<(String, bool)> = out
        .db_engine_versions()
        .iter()
        .flat_map(|v| v.valid_upgrade_target())
        .filter_map(|t| {
            Some((
                t.engine_version()?.to_owned(),
                t.is_major_version_upgrade().unwrap_or(false),
            ))
        })
        .collect();
    targets
        .iter()
        .filter(|(v, _)| satisfies(engine, declared, v))
        .max_by_key(|(v, _)| parts(v))
        .cloned()
        .ok_or_else(|| ProviderError::Invalid {
            field: "engine_version".to_owned(),
            message: format!(
                "RDS offers no upgrade of {engine} {live} that satisfies {declared} (its upgrade targets: {})",
                if targets.is_empty() {
                    "none".to_owned()
                } else {
                    targets.iter().map(|(v, _)| v.as_str()).collect::<Vec<_>>().join(", ")
                }
            ),
        })
}

/// The version to ask RDS for when it refused `declared`: the newest version of
/// `engine` it offers (DescribeDBEngineVersions, available versions only) that satisfies
/// `declared`. An error names the field and what RDS offers in that major instead.
pub(crate) async fn offered(
    cx: &Cx<'_>,
    engine: &str,
    declared: &str,
) -> Result<String, ProviderError> {
    let mut pages = rds(cx)?
        .describe_db_engine_versions()
        .engine(engine)
        .into_paginator()
        .send();
    let mut versions = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(api_error("rds:DescribeDBEngineVersions"))?;
        versions.extend(
            page.db_engine_versions()
                .iter()
                .filter_map(|v| v.engine_version().map(str::to_owned)),
        );
    }
    newest_satisfying(engine, declared, &versions).ok_or_else(|| {
        let same_major: Vec<&str> = versions
            .iter()
            .filter(|v| same_major(engine, declared, v))
            .map(String::as_str)
            .collect();
        ProviderError::Invalid {
            field: "engine_version".to_owned(),
            message: format!(
                "RDS offers no {engine} version {declared} or newer in its major version (offered there: {}); declare an offered version, or the major version alone",
                if same_major.is_empty() {
                    "none".to_owned()
                } else {
                    same_major.join(", ")
                }
            ),
        }
    })
}

/// The newest of `versions` that satisfies `declared`.
fn newest_satisfying(engine: &str, declared: &str, versions: &[String]) -> Option<String> {
    versions
        .iter()
        .filter(|v| satisfies(engine, declared, v))
        .max_by_key(|v| parts(v))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_version_is_a_floor_within_its_major() {
        // A major alone: any minor of it.
        assert!(satisfies("postgres", "14", "14.10"));
        assert!(satisfies("postgres", "14", "14.17"));
        assert!(!satisfies("postgres", "14", "15.2"));
        // A minimum minor: it or newer, same major (numerically, not as text).
        assert!(satisfies("postgres", "14.10", "14.12"));
        assert!(satisfies("postgres", "14.9", "14.10"));
        assert!(!satisfies("postgres", "14.10", "14.9"));
        assert!(!satisfies("postgres", "14.10", "15.1"));
        // Before 10 the major is two parts.
        assert!(satisfies("postgres", "9.6", "9.6.24"));
        assert!(satisfies("postgres", "9.6.6", "9.6.11"));
        assert!(!satisfies("postgres", "9.6", "9.5.25"));
        // Not dotted numbers: only itself.
        assert!(satisfies(
            "sqlserver-ee",
            "15.00.4345.5.v1",
            "15.00.4345.5.v1"
        ));
        assert!(!satisfies(
            "sqlserver-ee",
            "15.00.4345.5.v1",
            "15.00.4355.3.v1"
        ));
        assert!(well_formed("postgres", "16") && !well_formed("postgres", "16.x"));
    }

    #[test]
    fn the_newest_offered_version_that_satisfies_is_chosen() {
        let offered: Vec<String> = ["13.20", "14.13", "14.9", "14.17", "15.12", "16.8"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            newest_satisfying("postgres", "14.10", &offered).as_deref(),
            Some("14.17")
        );
        assert_eq!(
            newest_satisfying("postgres", "14", &offered).as_deref(),
            Some("14.17")
        );
        assert_eq!(newest_satisfying("postgres", "14.18", &offered), None);
        assert_eq!(newest_satisfying("postgres", "12", &offered), None);
    }
}
