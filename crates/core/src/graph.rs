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

/// A self-contained SVG: one horizontal band per group, columns by dependency depth.
pub fn to_svg(stack: &SealedStack, group: &dyn Fn(&Node) -> String) -> String {
    const W: f64 = 190.0;
    const H: f64 = 46.0;
    const GX: f64 = 50.0;
    const GY: f64 = 18.0;
    const BAND_PAD: f64 = 34.0;
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
    let max_depth = depth.iter().copied().max().unwrap_or(0);
    let width = 40.0 + (max_depth as f64 + 1.0) * (W + GX);
    let mut pos = vec![(0.0, 0.0); n];
    let mut bands = Vec::new();
    let mut y = 20.0;
    for (g, members) in groups(stack, group) {
        let mut rows = vec![0usize; max_depth + 1];
        for &i in &members {
            let col = depth[i];
            pos[i] = (
                30.0 + col as f64 * (W + GX),
                y + BAND_PAD + rows[col] as f64 * (H + GY),
            );
            rows[col] += 1;
        }
        let tall = rows.iter().copied().max().unwrap_or(1) as f64;
        let band_h = BAND_PAD + tall * (H + GY);
        bands.push((g, y, band_h));
        y += band_h + 16.0;
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
            "<rect x=\"8\" y=\"{by:.0}\" width=\"{:.0}\" height=\"{bh:.0}\" rx=\"10\" fill=\"{}\" stroke=\"#c8ccd2\"/><text x=\"20\" y=\"{:.0}\" font-size=\"16\" font-weight=\"bold\" fill=\"#334\">{}</text>",
            width - 16.0,
            palette[k % palette.len()],
            by + 22.0,
            esc(g)
        );
    }
    for i in 0..n {
        for &d in stack.deps(i) {
            let (x1, y1) = (pos[d].0 + W, pos[d].1 + H / 2.0);
            let (x2, y2) = (pos[i].0, pos[i].1 + H / 2.0);
            let mx = (x1 + x2) / 2.0;
            let _ = writeln!(
                s,
                "<path d=\"M {x1:.0} {y1:.0} C {mx:.0} {y1:.0}, {mx:.0} {y2:.0}, {x2:.0} {y2:.0}\" fill=\"none\" stroke=\"#556\" stroke-opacity=\"0.55\" stroke-width=\"1.3\" marker-end=\"url(#arrow)\"/>"
            );
        }
    }
    for (i, node) in stack.nodes().iter().enumerate() {
        let (x, y) = pos[i];
        let _ = writeln!(
            s,
            "<g><rect x=\"{x:.0}\" y=\"{y:.0}\" width=\"{W}\" height=\"{H}\" rx=\"7\" fill=\"white\" stroke=\"#445\"/><text x=\"{:.0}\" y=\"{:.0}\" font-size=\"13\" text-anchor=\"middle\" fill=\"#111\">{}</text><text x=\"{:.0}\" y=\"{:.0}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#667\">{}</text></g>",
            x + W / 2.0,
            y + 19.0,
            esc(node.name()),
            x + W / 2.0,
            y + 36.0,
            esc(short_type(node.type_name))
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
}
