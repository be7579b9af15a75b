//! Drawing a sealed stack: Graphviz DOT, Mermaid, and a self-contained SVG.
//!
//! Resources are grouped (one cluster or band per group) and dependency arrows run from a
//! resource to what depends on it. The default grouping is by the type token's service
//! (`aws:ec2/vpc` → `ec2`); callers can pass their own (the e-commerce example groups by
//! tier).

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::stack::{Node, SealedStack};

/// The default group of a node: the service of its type token.
pub fn service_group(node: &Node) -> String {
    let t = node.type_name;
    let after = t.split_once(':').map_or(t, |(_, r)| r);
    after.split('/').next().unwrap_or(after).to_owned()
}

fn groups(stack: &SealedStack, group: &dyn Fn(&Node) -> String) -> BTreeMap<String, Vec<usize>> {
    let mut g: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, n) in stack.nodes().iter().enumerate() {
        g.entry(group(n)).or_default().push(i);
    }
    g
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn short_type(t: &str) -> &str {
    t.rsplit(['/', ':']).next().unwrap_or(t)
}

/// Graphviz DOT.
pub fn to_dot(stack: &SealedStack, group: &dyn Fn(&Node) -> String) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "digraph \"{}\" {{", stack.name());
    let _ = writeln!(
        s,
        "  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];"
    );
    for (k, (g, members)) in groups(stack, group).iter().enumerate() {
        let _ = writeln!(s, "  subgraph cluster_{k} {{\n    label=\"{g}\";");
        for &i in members {
            let n = &stack.nodes()[i];
            let _ = writeln!(
                s,
                "    n{i} [label=\"{}\\n({})\"];",
                n.name(),
                short_type(n.type_name)
            );
        }
        let _ = writeln!(s, "  }}");
    }
    for i in 0..stack.nodes().len() {
        for &d in stack.deps(i) {
            let _ = writeln!(s, "  n{d} -> n{i};");
        }
    }
    s.push_str("}\n");
    s
}

/// Mermaid flowchart.
pub fn to_mermaid(stack: &SealedStack, group: &dyn Fn(&Node) -> String) -> String {
    let mut s = String::from("flowchart LR\n");
    for (k, (g, members)) in groups(stack, group).iter().enumerate() {
        let _ = writeln!(s, "  subgraph g{k}[\"{g}\"]");
        for &i in members {
            let n = &stack.nodes()[i];
            let _ = writeln!(
                s,
                "    n{i}[\"{}<br/>({})\"]",
                n.name(),
                short_type(n.type_name)
            );
        }
        let _ = writeln!(s, "  end");
    }
    for i in 0..stack.nodes().len() {
        for &d in stack.deps(i) {
            let _ = writeln!(s, "  n{d} --> n{i}");
        }
    }
    s
}

/// Above this many resources, the SVG draws one box per type within each group ("subnet
/// ×6"), so that a whole platform stays readable on one page.
pub const COMPONENT_THRESHOLD: usize = 40;

/// One box of the SVG: a resource, or every resource of one type in one group.
struct Component {
    group: String,
    title: String,
    subtitle: String,
    members: Vec<usize>,
}

fn components(stack: &SealedStack, group: &dyn Fn(&Node) -> String) -> Vec<Component> {
    let collapse = stack.nodes().len() > COMPONENT_THRESHOLD;
    let mut out: Vec<Component> = Vec::new();
    let mut by_key: BTreeMap<(String, &str), usize> = BTreeMap::new();
    for (g, members) in groups(stack, group) {
        for i in members {
            let node = &stack.nodes()[i];
            if collapse {
                if let Some(&k) = by_key.get(&(g.clone(), node.type_name)) {
                    out[k].members.push(i);
                    continue;
                }
                by_key.insert((g.clone(), node.type_name), out.len());
            }
            out.push(Component {
                group: g.clone(),
                title: node.name().to_owned(),
                subtitle: short_type(node.type_name).to_owned(),
                members: vec![i],
            });
        }
    }
    for c in out.iter_mut().filter(|c| c.members.len() > 1 || collapse) {
        if c.members.len() == 1 {
            c.title = fit(&c.title, 26);
            continue;
        }
        let node = &stack.nodes()[c.members[0]];
        c.title = format!("{} ×{}", short_type(node.type_name), c.members.len());
        let names: Vec<&str> = c.members.iter().map(|&i| stack.nodes()[i].name()).collect();
        let mut sub = names[..names.len().min(2)].join(", ");
        if names.len() > 2 {
            sub.push_str(", …");
        }
        c.subtitle = fit(&sub, 30);
    }
    out
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut t: String = text.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// A self-contained SVG: one band per group (in the groups' order), boxes left to right
/// by dependency depth, wrapped into rows, and an arrow from each box to the boxes that
/// depend on it. Stacks of more than [`COMPONENT_THRESHOLD`] resources are drawn as
/// components (one box per type within a group) on a page about 2000 pixels wide.
pub fn to_svg(stack: &SealedStack, group: &dyn Fn(&Node) -> String) -> String {
    let big = stack.nodes().len() > COMPONENT_THRESHOLD;
    let (w, h, gx, gy) = if big {
        (210.0, 64.0, 26.0, 100.0)
    } else {
        (190.0, 46.0, 50.0, 18.0)
    };
    const BAND_PAD: f64 = 40.0;
    let n = stack.nodes().len();
    let mut depth = vec![0usize; n];
    for &i in stack.order() {
        depth[i] = stack
            .deps(i)
            .iter()
            .map(|&d| depth[d] + 1)
            .max()
            .unwrap_or(0);
    }
    let comps = components(stack, group);
    let mut comp_of = vec![0usize; n];
    for (k, c) in comps.iter().enumerate() {
        for &i in &c.members {
            comp_of[i] = k;
        }
    }
    let level = |c: &Component| c.members.iter().map(|&i| depth[i]).min().unwrap_or(0);
    let max_depth = depth.iter().copied().max().unwrap_or(0);
    let per_row = if big { 8 } else { max_depth + 1 };
    let width = 40.0 + per_row as f64 * (w + gx);
    let mut pos = vec![(0.0, 0.0); comps.len()];
    let mut bands: Vec<(String, f64, f64)> = Vec::new();
    let mut y = 20.0;
    let mut k = 0;
    while k < comps.len() {
        let g = comps[k].group.clone();
        let mut members: Vec<usize> = (k..comps.len())
            .take_while(|&j| comps[j].group == g)
            .collect();
        k += members.len();
        let rows = if big {
            // By depth, wrapped every `per_row` boxes.
            members.sort_by_key(|&j| level(&comps[j]));
            for (slot, &j) in members.iter().enumerate() {
                pos[j] = (
                    30.0 + (slot % per_row) as f64 * (w + gx),
                    y + BAND_PAD + (slot / per_row) as f64 * (h + gy),
                );
            }
            members.len().div_ceil(per_row).max(1)
        } else {
            // A column per depth, stacked within the column.
            let mut rows = vec![0usize; max_depth + 1];
            for &j in &members {
                let col = level(&comps[j]);
                pos[j] = (
                    30.0 + col as f64 * (w + gx),
                    y + BAND_PAD + rows[col] as f64 * (h + gy),
                );
                rows[col] += 1;
            }
            rows.iter().copied().max().unwrap_or(1)
        };
        let band_h = BAND_PAD + rows as f64 * (h + gy) - gy + 20.0;
        bands.push((g, y, band_h));
        y += band_h + 18.0;
    }
    let height = y + 10.0;
    let palette = [
        "#e8f1fb", "#eaf7ea", "#fdf3e3", "#f5ebfa", "#fbe9ea", "#eef0f2",
    ];
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"Helvetica, Arial, sans-serif\">"
    );
    s.push_str("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#556\"/></marker></defs>\n");
    let _ = writeln!(s, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    for (k, (g, by, bh)) in bands.iter().enumerate() {
        let _ = writeln!(
            s,
            "<rect x=\"8\" y=\"{by:.0}\" width=\"{:.0}\" height=\"{bh:.0}\" rx=\"10\" fill=\"{}\" stroke=\"#c8ccd2\"/><text x=\"20\" y=\"{:.0}\" font-size=\"18\" font-weight=\"bold\" fill=\"#334\">{}</text>",
            width - 16.0,
            palette[k % palette.len()],
            by + 26.0,
            esc(g)
        );
    }
    let mut edges = std::collections::BTreeSet::new();
    for i in 0..n {
        for &d in stack.deps(i) {
            if comp_of[d] != comp_of[i] {
                edges.insert((comp_of[d], comp_of[i]));
            }
        }
    }
    for (a, b) in edges {
        let (ax, ay) = pos[a];
        let (bx, by) = pos[b];
        let path = if (ay - by).abs() < 1.0 && bx > ax {
            // Same row, left to right.
            let (x1, y1, x2, y2) = (ax + w, ay + h / 2.0, bx, by + h / 2.0);
            let mx = (x1 + x2) / 2.0;
            format!("M {x1:.0} {y1:.0} C {mx:.0} {y1:.0}, {mx:.0} {y2:.0}, {x2:.0} {y2:.0}")
        } else {
            // Between rows: from the bottom (or top) edge to the top (or bottom) edge.
            let down = by > ay;
            let (x1, y1) = (ax + w / 2.0, if down { ay + h } else { ay });
            let (x2, y2) = (bx + w / 2.0, if down { by } else { by + h });
            let my = (y1 + y2) / 2.0;
            format!("M {x1:.0} {y1:.0} C {x1:.0} {my:.0}, {x2:.0} {my:.0}, {x2:.0} {y2:.0}")
        };
        let _ = writeln!(
            s,
            "<path d=\"{path}\" fill=\"none\" stroke=\"#556\" stroke-opacity=\"0.45\" stroke-width=\"1.3\" marker-end=\"url(#arrow)\"/>"
        );
    }
    let (title_px, sub_px) = if big { (15, 12) } else { (13, 11) };
    for (k, c) in comps.iter().enumerate() {
        let (x, y) = pos[k];
        let _ = writeln!(
            s,
            "<g><rect x=\"{x:.0}\" y=\"{y:.0}\" width=\"{w}\" height=\"{h}\" rx=\"7\" fill=\"white\" stroke=\"#445\"/><text x=\"{:.0}\" y=\"{:.0}\" font-size=\"{title_px}\" text-anchor=\"middle\" fill=\"#111\">{}</text><text x=\"{:.0}\" y=\"{:.0}\" font-size=\"{sub_px}\" text-anchor=\"middle\" fill=\"#667\">{}</text></g>",
            x + w / 2.0,
            y + h / 2.0 - 4.0,
            esc(&c.title),
            x + w / 2.0,
            y + h / 2.0 + 14.0,
            esc(&c.subtitle)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Mock, MockHandle};
    use crate::Stack;

    #[test]
    fn every_format_has_every_node_and_edge() {
        let mut s = Stack::new("dev");
        let a = s.add("a", Mock::new());
        s.add("b", Mock::new().prop("x", a.id()));
        let st = s.seal().unwrap();
        let dot = to_dot(&st, &service_group);
        assert!(
            dot.contains("n0 -> n1;") && dot.contains("label=\"mock\""),
            "{dot}"
        );
        let mm = to_mermaid(&st, &service_group);
        assert!(mm.contains("n0 --> n1"), "{mm}");
        let svg = to_svg(&st, &service_group);
        assert!(svg.starts_with("<svg") && svg.contains(">a</text>") && svg.contains(">b</text>"));
        assert_eq!(svg.matches("marker-end").count(), 1);
    }

    #[test]
    fn a_big_stack_is_drawn_as_components_per_type_and_group() {
        let mut s = Stack::new("dev");
        let root = s.add("root", Mock::new());
        for i in 0..50 {
            s.add(format!("leaf-{i}"), Mock::new().prop("x", root.id()));
        }
        let st = s.seal().unwrap();
        // Two groups: the root alone, and the 50 leaves as one box.
        let svg = to_svg(&st, &|n: &Node| {
            if n.name() == "root" {
                "1 root".into()
            } else {
                "2 leaves".into()
            }
        });
        assert!(svg.contains(">mock ×50</text>"), "{svg}");
        assert!(svg.contains(">leaf-0, leaf-1, …</text>"));
        assert_eq!(
            svg.matches("marker-end").count(),
            1,
            "one arrow between the boxes"
        );
        assert_eq!(svg.matches("<g><rect").count(), 2);
    }
}
