//! A pure, synchronous ready-queue over a DAG of jobs, kept apart from the async driver
//! that runs it (after cargo's `dependency_queue`).
//!
//! A job becomes ready the moment its last dependency finishes. Among ready jobs,
//! [`Policy::CriticalPath`] hands out the one with the longest remaining path first: the
//! sum of estimated costs from the job to the end of the graph. [`Policy::Fifo`] hands them
//! out in the order they became ready (Terraform's behaviour), for comparison.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// How ready jobs are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// Longest remaining path first.
    #[default]
    CriticalPath,
    /// First ready, first started.
    Fifo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Waiting,
    Ready,
    Running,
    Done,
    Failed,
    Skipped,
}

/// The ready-queue.
#[derive(Debug)]
pub struct DependencyQueue {
    dependents: Vec<Vec<usize>>,
    waiting_on: Vec<usize>,
    priority: Vec<u64>,
    status: Vec<Status>,
    ready: BinaryHeap<(u64, Reverse<u64>, Reverse<usize>)>,
    seq: u64,
    policy: Policy,
    open: usize,
}

impl DependencyQueue {
    /// A queue of `cost.len()` jobs. Each edge `(a, b)` means `b` depends on `a`.
    pub fn new(cost: &[u64], edges: &[(usize, usize)], policy: Policy) -> Self {
        let n = cost.len();
        let mut dependents = vec![Vec::new(); n];
        let mut waiting_on = vec![0usize; n];
        for &(a, b) in edges {
            dependents[a].push(b);
            waiting_on[b] += 1;
        }
        // Longest path to a sink, in reverse topological order (Kahn).
        let mut indeg = waiting_on.clone();
        let mut topo: Vec<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
        let mut k = 0;
        while k < topo.len() {
            let i = topo[k];
            k += 1;
            for &d in &dependents[i] {
                indeg[d] -= 1;
                if indeg[d] == 0 {
                    topo.push(d);
                }
            }
        }
        let mut priority = cost.to_vec();
        for &i in topo.iter().rev() {
            let tail = dependents[i]
                .iter()
                .map(|&d| priority[d])
                .max()
                .unwrap_or(0);
            priority[i] = cost[i].saturating_add(tail);
        }
        let mut q = DependencyQueue {
            dependents,
            waiting_on,
            priority,
            status: vec![Status::Waiting; n],
            ready: BinaryHeap::new(),
            seq: 0,
            policy,
            open: n,
        };
        for i in 0..n {
            if q.waiting_on[i] == 0 {
                q.make_ready(i);
            }
        }
        q
    }

    fn make_ready(&mut self, i: usize) {
        self.status[i] = Status::Ready;
        let key = match self.policy {
            Policy::CriticalPath => self.priority[i],
            Policy::Fifo => 0,
        };
        self.ready.push((key, Reverse(self.seq), Reverse(i)));
        self.seq += 1;
    }

    /// The next job to start, if one is ready. It is then running.
    pub fn pop(&mut self) -> Option<usize> {
        let (_, _, Reverse(i)) = self.ready.pop()?;
        self.status[i] = Status::Running;
        Some(i)
    }

    /// Marks a running job done; its dependents whose dependencies are now all done
    /// become ready.
    pub fn finish(&mut self, i: usize) {
        self.status[i] = Status::Done;
        self.open -= 1;
        for k in 0..self.dependents[i].len() {
            let d = self.dependents[i][k];
            self.waiting_on[d] -= 1;
            if self.waiting_on[d] == 0 && self.status[d] == Status::Waiting {
                self.make_ready(d);
            }
        }
    }

    /// Marks a running job failed and skips everything that depends on it, directly or
    /// not. Returns the skipped jobs. Independent jobs are unaffected.
    pub fn fail(&mut self, i: usize) -> Vec<usize> {
        self.status[i] = Status::Failed;
        self.open -= 1;
        let mut skipped = Vec::new();
        let mut stack = self.dependents[i].clone();
        while let Some(d) = stack.pop() {
            if self.status[d] == Status::Waiting {
                self.status[d] = Status::Skipped;
                self.open -= 1;
                skipped.push(d);
                stack.extend_from_slice(&self.dependents[d]);
            }
        }
        skipped.sort_unstable();
        skipped
    }

    /// Skips every job that has not started (cancellation, or jobs left on a cycle).
    pub fn skip_rest(&mut self) -> Vec<usize> {
        self.ready.clear();
        let mut skipped = Vec::new();
        for (i, s) in self.status.iter_mut().enumerate() {
            if matches!(*s, Status::Waiting | Status::Ready) {
                *s = Status::Skipped;
                self.open -= 1;
                skipped.push(i);
            }
        }
        skipped
    }

    /// Jobs not yet done, failed or skipped (running ones included).
    pub fn open(&self) -> usize {
        self.open
    }

    /// The longest remaining path from `i` (its own cost included).
    pub fn priority(&self, i: usize) -> u64 {
        self.priority[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_after_all_dependencies() {
        // 0 → 2, 1 → 2
        let mut q = DependencyQueue::new(&[1, 1, 1], &[(0, 2), (1, 2)], Policy::CriticalPath);
        let a = q.pop().unwrap();
        let b = q.pop().unwrap();
        assert_eq!(q.pop(), None);
        q.finish(a);
        assert_eq!(q.pop(), None);
        q.finish(b);
        assert_eq!(q.pop(), Some(2));
        q.finish(2);
        assert_eq!(q.open(), 0);
    }

    #[test]
    fn longest_remaining_path_first() {
        // 0 (cost 1) → 1 (cost 600); 2 (cost 5) alone.
        let mut q = DependencyQueue::new(&[1, 600, 5], &[(0, 1)], Policy::CriticalPath);
        assert_eq!(q.priority(0), 601);
        assert_eq!(q.pop(), Some(0));
        let mut f = DependencyQueue::new(&[5, 1, 600], &[(1, 2)], Policy::Fifo);
        assert_eq!(f.pop(), Some(0));
    }

    #[test]
    fn failure_skips_exactly_the_dependents() {
        // 0 → 1 → 2, 0 → 3, 4 independent.
        let mut q = DependencyQueue::new(&[1; 5], &[(0, 1), (1, 2), (0, 3)], Policy::CriticalPath);
        let mut started = vec![];
        while let Some(i) = q.pop() {
            started.push(i);
        }
        assert_eq!(started.len(), 2);
        assert_eq!(q.fail(0), vec![1, 2, 3]);
        q.finish(4);
        assert_eq!(q.open(), 0);
    }

    #[test]
    fn cancellation_skips_what_has_not_started() {
        let mut q = DependencyQueue::new(&[1; 3], &[(0, 1)], Policy::CriticalPath);
        let first = q.pop().unwrap();
        let mut rest = q.skip_rest();
        rest.sort_unstable();
        assert_eq!(rest.len(), 2);
        assert!(!rest.contains(&first));
        q.finish(first);
        assert_eq!(q.open(), 0);
    }
}
