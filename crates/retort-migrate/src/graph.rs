//! The revision graph: revisions as nodes, parent → child edges, and the
//! planning functions that turn a target into an ordered list of revisions.
//!
//! Invariant: `revisions` is sorted by id and node `i` of `graph` is
//! `revisions[i]`, so iterating a `BTreeSet<usize>` of node indices visits
//! revisions in id order. Every order this module produces breaks ties by id.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use petgraph::Direction::{Incoming, Outgoing};
use petgraph::graph::{DiGraph, NodeIndex};

use crate::MigrateError;
use crate::revision::{Revision, read_revision};

/// All revisions of a project, validated: unique ids, known parents, no cycles.
#[derive(Debug, Clone)]
pub struct RevisionGraph {
    revisions: Vec<Revision>,
    by_id: BTreeMap<String, usize>,
    graph: DiGraph<(), ()>,
}

/// Where `upgrade` should go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeTarget {
    /// The single head; an error if the graph has several.
    Head,
    /// Every head (applies all branches).
    Heads,
    /// N revisions past the current state, along the path to the single head.
    Relative(u32),
    /// A revision id or unique prefix.
    Revision(String),
}

impl From<&str> for UpgradeTarget {
    /// `head`, `heads`, `+N`, or a revision id/prefix.
    fn from(s: &str) -> Self {
        match s {
            "head" => UpgradeTarget::Head,
            "heads" => UpgradeTarget::Heads,
            _ => match s.strip_prefix('+').and_then(|n| n.parse().ok()) {
                Some(n) => UpgradeTarget::Relative(n),
                None => UpgradeTarget::Revision(s.to_string()),
            },
        }
    }
}

/// Where `downgrade` should go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DowngradeTarget {
    /// Revert the N most recent revisions.
    Relative(u32),
    /// Revert everything.
    Base,
    /// Revert every applied descendant of this revision (id or unique prefix).
    Revision(String),
}

impl From<&str> for DowngradeTarget {
    /// `base`, `-N`, or a revision id/prefix.
    fn from(s: &str) -> Self {
        if s == "base" {
            return DowngradeTarget::Base;
        }
        match s.strip_prefix('-').and_then(|n| n.parse().ok()) {
            Some(n) => DowngradeTarget::Relative(n),
            None => DowngradeTarget::Revision(s.to_string()),
        }
    }
}

impl RevisionGraph {
    /// Loads every `*.sql` file of `dir` (not recursive; dot files ignored).
    pub fn load(dir: &Path) -> Result<Self, MigrateError> {
        let list_err = |source| MigrateError::Io {
            action: "list revisions directory",
            path: dir.to_path_buf(),
            source,
        };
        let mut paths: Vec<PathBuf> = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(list_err)? {
            let path = entry.map_err(list_err)?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name.ends_with(".sql") && !name.starts_with('.') && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        let revisions = paths
            .iter()
            .map(|p| read_revision(p))
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_revisions(revisions)
    }

    /// Builds and validates a graph from already-parsed revisions.
    pub fn from_revisions(mut revisions: Vec<Revision>) -> Result<Self, MigrateError> {
        revisions.sort_by(|a, b| a.id.cmp(&b.id).then_with(|| a.path.cmp(&b.path)));
        let mut by_id = BTreeMap::new();
        for (i, rev) in revisions.iter().enumerate() {
            if let Some(&first) = by_id.get(&rev.id) {
                let first: &Revision = &revisions[first];
                return Err(MigrateError::DuplicateRevision {
                    id: rev.id.clone(),
                    first: first.path.clone(),
                    second: rev.path.clone(),
                });
            }
            by_id.insert(rev.id.clone(), i);
        }
        let mut graph = DiGraph::with_capacity(revisions.len(), revisions.len());
        for _ in &revisions {
            graph.add_node(());
        }
        for (i, rev) in revisions.iter().enumerate() {
            for parent in &rev.parents {
                let Some(&p) = by_id.get(parent) else {
                    return Err(MigrateError::UnknownParent {
                        id: rev.id.clone(),
                        path: rev.path.clone(),
                        parent: parent.clone(),
                    });
                };
                graph.add_edge(NodeIndex::new(p), NodeIndex::new(i), ());
            }
        }
        if petgraph::algo::toposort(&graph, None).is_err() {
            // Name every revision on a cycle, not just the one toposort tripped on.
            let mut files: Vec<PathBuf> = petgraph::algo::tarjan_scc(&graph)
                .into_iter()
                .filter(|scc| scc.len() > 1)
                .flatten()
                .map(|n| revisions[n.index()].path.clone())
                .collect();
            files.sort();
            return Err(MigrateError::Cycle { files });
        }
        Ok(RevisionGraph {
            revisions,
            by_id,
            graph,
        })
    }

    /// Every revision, sorted by id.
    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }

    /// Whether the graph has no revisions.
    pub fn is_empty(&self) -> bool {
        self.revisions.is_empty()
    }

    /// The revision with exactly this id.
    pub fn get(&self, id: &str) -> Option<&Revision> {
        self.by_id.get(id).map(|&i| &self.revisions[i])
    }

    /// Revisions no other revision names as parent, sorted by id.
    pub fn heads(&self) -> Vec<&Revision> {
        (0..self.revisions.len())
            .filter(|&i| self.children_idx(i).next().is_none())
            .map(|i| &self.revisions[i])
            .collect()
    }

    /// Revisions without parents, sorted by id.
    pub fn bases(&self) -> Vec<&Revision> {
        self.revisions
            .iter()
            .filter(|r| r.parents.is_empty())
            .collect()
    }

    /// Revisions naming `id` as a parent, sorted by id.
    pub fn children(&self, id: &str) -> Vec<&Revision> {
        let Some(&i) = self.by_id.get(id) else {
            return Vec::new();
        };
        let set: BTreeSet<usize> = self.children_idx(i).collect();
        set.into_iter().map(|c| &self.revisions[c]).collect()
    }

    /// Finds a revision by full id or unique id prefix.
    pub fn resolve(&self, spec: &str) -> Result<&Revision, MigrateError> {
        if let Some(rev) = self.get(spec) {
            return Ok(rev);
        }
        let candidates: Vec<&Revision> = if spec.is_empty() {
            Vec::new()
        } else {
            self.by_id
                .range(spec.to_string()..)
                .take_while(|(id, _)| id.starts_with(spec))
                .map(|(_, &i)| &self.revisions[i])
                .collect()
        };
        match candidates.as_slice() {
            [] => Err(MigrateError::UnknownRevision {
                spec: spec.to_string(),
            }),
            [one] => Ok(one),
            many => Err(MigrateError::AmbiguousRevision {
                spec: spec.to_string(),
                candidates: many.iter().map(|r| r.id.clone()).collect(),
            }),
        }
    }

    /// Every revision, children before parents (newest first), ties by id.
    pub fn history(&self) -> Vec<&Revision> {
        let all: BTreeSet<usize> = (0..self.revisions.len()).collect();
        self.order(&all, false)
            .into_iter()
            .map(|i| &self.revisions[i])
            .collect()
    }

    /// The strict ancestors of `id`, parents-first order (empty for an unknown id).
    pub fn ancestors(&self, id: &str) -> Vec<&Revision> {
        let Some(&i) = self.by_id.get(id) else {
            return Vec::new();
        };
        let mut set = self.closure(i, Incoming);
        set.remove(&i);
        self.order(&set, true)
            .into_iter()
            .map(|i| &self.revisions[i])
            .collect()
    }

    /// The strict descendants of `id`, parents-first order (empty for an unknown id).
    pub fn descendants(&self, id: &str) -> Vec<&Revision> {
        let Some(&i) = self.by_id.get(id) else {
            return Vec::new();
        };
        let mut set = self.closure(i, Outgoing);
        set.remove(&i);
        self.order(&set, true)
            .into_iter()
            .map(|i| &self.revisions[i])
            .collect()
    }

    /// Whether `ancestor` is `id` itself or one of its ancestors.
    pub fn is_ancestor_or_self(&self, ancestor: &str, id: &str) -> bool {
        match (self.by_id.get(ancestor), self.by_id.get(id)) {
            (Some(&a), Some(&i)) => {
                a == i
                    || petgraph::algo::has_path_connecting(
                        &self.graph,
                        NodeIndex::new(a),
                        NodeIndex::new(i),
                        None,
                    )
            }
            _ => false,
        }
    }

    fn children_idx(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.graph
            .neighbors_directed(NodeIndex::new(i), Outgoing)
            .map(|n| n.index())
    }

    fn parents_idx(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.graph
            .neighbors_directed(NodeIndex::new(i), Incoming)
            .map(|n| n.index())
    }

    /// `i` and everything reachable from it in `dir` (Incoming = ancestors).
    fn closure(&self, i: usize, dir: petgraph::Direction) -> BTreeSet<usize> {
        let mut seen = BTreeSet::from([i]);
        let mut stack = vec![i];
        while let Some(n) = stack.pop() {
            for m in self.graph.neighbors_directed(NodeIndex::new(n), dir) {
                if seen.insert(m.index()) {
                    stack.push(m.index());
                }
            }
        }
        seen
    }

    /// Topological order of `subset` (Kahn), parents first or children first,
    /// edges leaving the subset ignored, ties by id.
    fn order(&self, subset: &BTreeSet<usize>, parents_first: bool) -> Vec<usize> {
        let before = |i: usize| -> Vec<usize> {
            if parents_first {
                self.parents_idx(i).filter(|p| subset.contains(p)).collect()
            } else {
                self.children_idx(i)
                    .filter(|c| subset.contains(c))
                    .collect()
            }
        };
        let mut pending: BTreeMap<usize, usize> =
            subset.iter().map(|&i| (i, before(i).len())).collect();
        let mut ready: BTreeSet<usize> = pending
            .iter()
            .filter(|&(_, &n)| n == 0)
            .map(|(&i, _)| i)
            .collect();
        let mut out = Vec::with_capacity(subset.len());
        while let Some(i) = ready.pop_first() {
            out.push(i);
            let after: Vec<usize> = if parents_first {
                self.children_idx(i).collect()
            } else {
                self.parents_idx(i).collect()
            };
            for j in after {
                if let Some(n) = pending.get_mut(&j) {
                    *n -= 1;
                    if *n == 0 {
                        ready.insert(j);
                    }
                }
            }
        }
        out
    }

    /// Node indices of `current` and all their ancestors.
    fn applied(&self, current: &[String]) -> Result<BTreeSet<usize>, MigrateError> {
        let mut set = BTreeSet::new();
        for id in current {
            let &i = self
                .by_id
                .get(id)
                .ok_or_else(|| MigrateError::UnknownCurrentRevision { id: id.clone() })?;
            set.extend(self.closure(i, Incoming));
        }
        Ok(set)
    }

    fn single_head(&self) -> Result<Option<usize>, MigrateError> {
        let heads = self.heads();
        match heads.as_slice() {
            [] => Ok(None),
            [one] => Ok(self.by_id.get(&one.id).copied()),
            many => Err(MigrateError::MultipleHeads {
                heads: many.iter().map(|r| r.id.clone()).collect(),
            }),
        }
    }

    /// Whether `id` is applied given version-table `rows` (it is a row or an
    /// ancestor of one).
    pub fn is_covered(&self, rows: &[String], id: &str) -> bool {
        rows.iter().any(|r| self.is_ancestor_or_self(id, r))
    }
}

/// Revisions to apply, in order (parents first), to go from `current` (the
/// version-table rows) to `target`. Empty when already there.
pub fn plan_upgrade<'g>(
    graph: &'g RevisionGraph,
    current: &[String],
    target: &UpgradeTarget,
) -> Result<Vec<&'g Revision>, MigrateError> {
    let applied = graph.applied(current)?;
    let wanted: BTreeSet<usize> = match target {
        UpgradeTarget::Heads => (0..graph.revisions.len()).collect(),
        UpgradeTarget::Head | UpgradeTarget::Relative(_) => match graph.single_head()? {
            Some(h) => graph.closure(h, Incoming),
            None => BTreeSet::new(),
        },
        UpgradeTarget::Revision(spec) => {
            let rev = graph.resolve(spec)?;
            graph.closure(graph.by_id[&rev.id], Incoming)
        }
    };
    let todo: BTreeSet<usize> = wanted.difference(&applied).copied().collect();
    let mut plan: Vec<&Revision> = graph
        .order(&todo, true)
        .into_iter()
        .map(|i| &graph.revisions[i])
        .collect();
    if let UpgradeTarget::Relative(n) = *target {
        if n as usize > plan.len() {
            return Err(MigrateError::RelativeOutOfRange {
                direction: "up",
                requested: n,
                available: plan.len(),
            });
        }
        plan.truncate(n as usize);
    }
    Ok(plan)
}

/// Revisions to revert, in order (children first), to go from `current` to `target`.
pub fn plan_downgrade<'g>(
    graph: &'g RevisionGraph,
    current: &[String],
    target: &DowngradeTarget,
) -> Result<Vec<&'g Revision>, MigrateError> {
    let applied = graph.applied(current)?;
    let todo: BTreeSet<usize> = match target {
        DowngradeTarget::Base | DowngradeTarget::Relative(_) => applied.clone(),
        DowngradeTarget::Revision(spec) => {
            let rev = graph.resolve(spec)?;
            let i = graph.by_id[&rev.id];
            if !applied.contains(&i) {
                return Err(MigrateError::NotApplied {
                    id: rev.id.clone(),
                    current: current.to_vec(),
                });
            }
            let mut below = graph.closure(i, Outgoing);
            below.remove(&i);
            below.intersection(&applied).copied().collect()
        }
    };
    let mut plan: Vec<&Revision> = graph
        .order(&todo, false)
        .into_iter()
        .map(|i| &graph.revisions[i])
        .collect();
    if let DowngradeTarget::Relative(n) = *target {
        if current.len() > 1 && n > 0 {
            return Err(MigrateError::AmbiguousRelative {
                current: current.to_vec(),
            });
        }
        if n as usize > plan.len() {
            return Err(MigrateError::RelativeOutOfRange {
                direction: "down",
                requested: n,
                available: plan.len(),
            });
        }
        plan.truncate(n as usize);
    }
    Ok(plan)
}

/// Version-table rows after applying `rev`: rows that are ancestors of `rev`
/// are replaced by `rev`. Sorted.
pub fn rows_after_upgrade(graph: &RevisionGraph, rows: &[String], rev: &Revision) -> Vec<String> {
    let mut out: BTreeSet<String> = rows
        .iter()
        .filter(|r| !graph.is_ancestor_or_self(r, &rev.id))
        .cloned()
        .collect();
    out.insert(rev.id.clone());
    out.into_iter().collect()
}

/// Version-table rows after reverting `rev`: its row goes, and each parent
/// comes back unless another remaining row still covers it. Sorted.
pub fn rows_after_downgrade(graph: &RevisionGraph, rows: &[String], rev: &Revision) -> Vec<String> {
    let remaining: Vec<String> = rows.iter().filter(|r| **r != rev.id).cloned().collect();
    let back: Vec<String> = rev
        .parents
        .iter()
        .filter(|p| !graph.is_covered(&remaining, p))
        .cloned()
        .collect();
    let mut out: BTreeSet<String> = remaining.into_iter().collect();
    // A parent that is an ancestor of another returning parent stays covered.
    for p in &back {
        if !back
            .iter()
            .any(|q| q != p && graph.is_ancestor_or_self(p, q))
        {
            out.insert(p.clone());
        }
    }
    out.into_iter().collect()
}
