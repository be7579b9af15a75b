//! Scheduling quality in virtual time (tokio's paused clock).
//!
//! Runs DAG shapes with long-tail durations (RDS-like 600 s, CloudFront-like 300 s, most
//! 1–5 s) through the real engine against the in-memory cloud, once with strata's
//! critical-path-first order and once with a FIFO ready order under the same bound
//! (Terraform's policy). Per shape it prints the makespan, the lower bound
//! max(critical path, work / parallel) and their ratio, and ends with
//! `scheduling: worst ratio X (fifo Y)`.
//!
//! `cargo bench --bench scheduling` (add `-- --parallel N` to change the bound; default 10).
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use strata::prelude::*;
use strata::testing::strategies::{DagNode, DagSpec};
use strata::testing::MemCloud;
use strata_core::{MemoryBackend, Policy};

/// xorshift64*: deterministic shapes without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Long-tail AWS-like duration in ms: 3% RDS-like, 4% CloudFront-like, else 1–5 s.
    fn duration(&mut self) -> u64 {
        match self.below(100) {
            0..=2 => 600_000,
            3..=6 => 300_000,
            _ => 1_000 * (1 + self.below(5)),
        }
    }
}

fn node(deps: Vec<usize>, duration_ms: u64) -> DagNode {
    DagNode {
        deps,
        duration_ms,
        value: "x".to_owned(),
    }
}

fn layered(seed: u64, layers: usize, width: usize) -> DagSpec {
    let mut r = Rng(seed);
    let mut nodes = Vec::new();
    for l in 0..layers {
        for _ in 0..width {
            let mut deps = Vec::new();
            if l > 0 {
                let prev = (l - 1) * width;
                for _ in 0..1 + r.below(3) {
                    deps.push(prev + r.below(width as u64) as usize);
                }
                deps.sort_unstable();
                deps.dedup();
            }
            nodes.push(node(deps, r.duration()));
        }
    }
    DagSpec { nodes }
}

fn fan_out(seed: u64, leaves: usize) -> DagSpec {
    let mut r = Rng(seed);
    let mut nodes = vec![node(vec![], 2_000)];
    for _ in 0..leaves {
        nodes.push(node(vec![0], r.duration()));
    }
    DagSpec { nodes }
}

fn diamond(seed: u64, width: usize, stages: usize) -> DagSpec {
    let mut r = Rng(seed);
    let mut nodes = vec![node(vec![], 2_000)];
    let mut join = 0;
    for _ in 0..stages {
        let first = nodes.len();
        for _ in 0..width {
            nodes.push(node(vec![join], r.duration()));
        }
        nodes.push(node((first..first + width).collect(), 1_000));
        join = nodes.len() - 1;
    }
    DagSpec { nodes }
}

/// The e-commerce platform's shape with typical AWS durations (ms).
fn ecommerce() -> DagSpec {
    let mut nodes: Vec<DagNode> = Vec::new();
    let mut add = |deps: Vec<usize>, d: u64| {
        nodes.push(node(deps, d));
        nodes.len() - 1
    };
    let kms: Vec<usize> = (0..4).map(|_| add(vec![], 2_000)).collect(); // rds, s3, ebs, efs keys
    let vpc = add(vec![], 3_000);
    let igw = add(vec![vpc], 2_000);
    let rt_pub = add(vec![vpc, igw], 1_500);
    let mut public = vec![];
    let mut app = vec![];
    let mut db = vec![];
    for _ in 0..2 {
        let p = add(vec![vpc], 1_500);
        add(vec![p, rt_pub], 1_000);
        let eip = add(vec![], 1_000);
        let nat = add(vec![p, eip], 120_000);
        let rt = add(vec![vpc, nat], 1_500);
        let a = add(vec![vpc], 1_500);
        add(vec![a, rt], 1_000);
        let d = add(vec![vpc], 1_500);
        public.push(p);
        app.push(a);
        db.push(d);
    }
    let flow_bucket = add(vec![kms[1]], 2_000);
    add(vec![vpc, flow_bucket], 2_000); // flow logs
    let sg_alb = add(vec![vpc], 2_000);
    let sg_app = add(vec![vpc, sg_alb], 2_000);
    let sg_db = add(vec![vpc, sg_app], 2_000);
    let secret = add(vec![kms[0]], 1_000);
    let rot_role = add(vec![], 2_000);
    let rot_fn = add(vec![rot_role], 5_000);
    add(vec![secret, rot_fn], 2_000); // rotation
    let dbsg = add(vec![db[0], db[1]], 1_000);
    let pg = add(vec![], 1_000);
    let rds = add(vec![dbsg, pg, sg_db, kms[0], secret], 600_000);
    let csg = add(vec![db[0], db[1]], 1_000);
    let redis = add(vec![csg, sg_db], 420_000);
    let images = add(vec![kms[1]], 2_000);
    add(vec![kms[1]], 2_000); // uploads
    add(vec![kms[1]], 2_000); // backups
    let audit = add(vec![kms[1]], 2_000);
    let efs = add(vec![kms[3]], 5_000);
    let mt1 = add(vec![efs, app[0], sg_app], 90_000);
    let mt2 = add(vec![efs, app[1], sg_app], 90_000);
    let zone = add(vec![], 40_000);
    let cert = add(vec![zone], 1_000);
    let cert_val = add(vec![cert, zone], 60_000);
    let alb = add(vec![public[0], public[1], sg_alb, audit], 180_000);
    let tg = add(vec![vpc], 2_000);
    add(vec![alb], 1_000); // http listener
    let https = add(vec![alb, tg, cert_val], 2_000);
    let waf = add(vec![], 3_000);
    add(vec![waf, alb], 30_000);
    let role = add(vec![], 2_000);
    let profile = add(vec![role], 8_000);
    let lt = add(vec![profile, sg_app, kms[2], rds, redis, mt1, mt2], 2_000);
    let asg = add(vec![lt, tg, app[0], app[1], https], 240_000);
    add(vec![asg], 1_000); // cpu policy
    add(vec![asg], 1_000); // memory policy
    let oac = add(vec![], 1_000);
    let cdn = add(vec![images, oac, alb, cert_val], 300_000);
    add(vec![images, cdn], 1_000); // bucket policy for OAC
    add(vec![zone, alb], 40_000); // alias record
    add(vec![zone, cdn], 40_000);
    add(vec![], 5_000); // health check
    let topic = add(vec![kms[1]], 1_000);
    add(vec![topic], 1_000);
    add(vec![topic], 1_000);
    for d in [rds, rds, alb, asg, redis] {
        add(vec![d, topic], 1_000); // the 5 critical alarms
    }
    add(vec![alb, rds, asg], 1_000); // dashboard
    add(vec![], 1_000); // log group
    add(vec![audit, kms[1]], 3_000); // trail
    add(vec![], 1_000); // guardduty
    add(vec![], 1_000); // xray group
    add(vec![], 1_000); // sampling rule
    DagSpec { nodes }
}

fn bound(spec: &DagSpec, parallel: usize) -> (u64, u64) {
    let mut longest = vec![0u64; spec.nodes.len()];
    for (i, n) in spec.nodes.iter().enumerate() {
        longest[i] = n.duration_ms + n.deps.iter().map(|&d| longest[d]).max().unwrap_or(0);
    }
    let cp = longest.iter().copied().max().unwrap_or(0);
    let work: u64 = spec.nodes.iter().map(|n| n.duration_ms).sum();
    (cp, work.div_ceil(parallel as u64))
}

/// The makespan, in virtual ms, of deploying `spec` with `policy`.
fn makespan(spec: &DagSpec, parallel: usize, policy: Policy) -> u64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let mut s = Stack::new("sched");
        spec.declare(&mut s);
        let st = s.seal().unwrap();
        let cloud = MemCloud::new();
        let e = Engine::new(Arc::new(MemoryBackend::new()))
            .with_context(Context::new().with(cloud.clone()))
            .parallel(parallel)
            .policy(policy);
        let t = tokio::time::Instant::now();
        let sum = e.up(&st, &RunOptions::default()).await.unwrap();
        assert!(sum.is_success(), "{sum:?}");
        assert!(cloud.max_in_flight() <= parallel);
        (t.elapsed() + Duration::from_micros(500)).as_millis() as u64
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let parallel = args
        .iter()
        .position(|a| a == "--parallel")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(10usize);
    let mut shapes: Vec<(String, DagSpec)> = Vec::new();
    for seed in 1..=5u64 {
        shapes.push((format!("layered-{seed}"), layered(seed * 7919, 8, 12)));
    }
    for seed in 1..=3u64 {
        shapes.push((format!("wide-{seed}"), layered(seed * 6_151, 4, 40)));
    }
    for seed in 1..=3u64 {
        shapes.push((format!("fan-out-{seed}"), fan_out(seed * 104_729, 120)));
    }
    for seed in 1..=3u64 {
        shapes.push((format!("diamond-{seed}"), diamond(seed * 1_299_709, 30, 3)));
    }
    shapes.push(("ecommerce".to_owned(), ecommerce()));

    println!("parallel = {parallel}; times in virtual seconds");
    println!(
        "{:<12} {:>5} {:>9} {:>9} {:>9} {:>7} {:>9} {:>7}",
        "shape", "nodes", "critical", "work/p", "strata", "ratio", "fifo", "ratio"
    );
    let (mut worst, mut worst_fifo) = (0f64, 0f64);
    for (name, spec) in &shapes {
        let (cp, wp) = bound(spec, parallel);
        let lb = cp.max(wp) as f64;
        let ours = makespan(spec, parallel, Policy::CriticalPath);
        let fifo = makespan(spec, parallel, Policy::Fifo);
        let (r, rf) = (ours as f64 / lb, fifo as f64 / lb);
        worst = worst.max(r);
        worst_fifo = worst_fifo.max(rf);
        println!(
            "{name:<12} {:>5} {:>9.0} {:>9.0} {:>9.0} {r:>7.3} {:>9.0} {rf:>7.3}",
            spec.nodes.len(),
            cp as f64 / 1e3,
            wp as f64 / 1e3,
            ours as f64 / 1e3,
            fifo as f64 / 1e3
        );
    }
    println!("scheduling: worst ratio {worst:.3} (fifo {worst_fifo:.3})");
}
