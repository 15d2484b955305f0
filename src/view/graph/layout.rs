//! A small Sugiyama-style layered layout: cycles broken by DFS, longest-path
//! layering, dummy nodes on long edges, barycentre ordering, ports per edge,
//! top-down alignment. Pure; coordinates are terminal cells.

/// Tunables of the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayoutParams {
    /// Widest edge label drawn in a gap (a gap is channels + label + 4 columns).
    pub label_w: u32,
    /// Most vertical channels per gap (more edges share channels).
    pub max_channels: u32,
    /// Barycentre sweeps (down then up) to reduce crossings.
    pub sweeps: usize,
}

impl Default for LayoutParams {
    fn default() -> Self {
        LayoutParams {
            label_w: 13,
            max_channels: 6,
            sweeps: 4,
        }
    }
}

/// A placed element: a node box or a dummy (an edge passing through a layer).
#[derive(Debug, Clone, PartialEq)]
pub struct Elem {
    /// The graph node, or `None` for a dummy.
    pub node: Option<usize>,
    pub layer: usize,
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// Incoming hops, in port order (top to bottom on the left side).
    pub in_hops: Vec<usize>,
    /// Outgoing hops, in port order (top to bottom on the right side).
    pub out_hops: Vec<usize>,
}

/// Where an arrow head goes on a hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrow {
    None,
    /// `▶` next to the right-hand element.
    Right,
    /// `◀` next to the left-hand element (an edge drawn against the flow).
    Left,
}

/// One segment of an edge between adjacent layers: out of `from` at `y_from`,
/// along to channel `xc`, up or down to `y_to`, then into `to`.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    /// Index into the graph's edges.
    pub edge: usize,
    pub from: usize,
    pub to: usize,
    pub y_from: u32,
    pub y_to: u32,
    pub xc: u32,
    /// Where the label starts on row `y_to`, when this hop carries it.
    pub label_x: Option<u32>,
    pub arrow: Arrow,
}

/// The computed layout.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    pub elems: Vec<Elem>,
    /// Node index → element index.
    pub node_elem: Vec<usize>,
    /// Element indexes per layer, top to bottom.
    pub layers: Vec<Vec<usize>>,
    pub hops: Vec<Hop>,
    pub width: u32,
    pub height: u32,
    /// Edges drawn against the flow to break cycles.
    pub reversed_edges: usize,
    pub label_w: u32,
    /// Per layer: left x and width of its column.
    pub columns: Vec<(u32, u32)>,
}

/// Lays out `widths.len()` nodes (box widths given) and `edges` (source, target).
/// Self-loops are not drawn.
pub fn layout(widths: &[u32], edges: &[(usize, usize)], p: LayoutParams) -> Layout {
    let n = widths.len();
    let reversed = break_cycles(n, edges);
    let dag: Vec<Option<(usize, usize)>> = edges
        .iter()
        .zip(&reversed)
        .map(|(&(s, t), &r)| {
            if s == t || s >= n || t >= n {
                None
            } else if r {
                Some((t, s))
            } else {
                Some((s, t))
            }
        })
        .collect();
    let layer = longest_path(n, &dag);
    let n_layers = layer.iter().copied().max().map_or(0, |m| m + 1);

    let mut out = Layout {
        label_w: p.label_w,
        reversed_edges: reversed.iter().filter(|r| **r).count(),
        ..Layout::default()
    };
    for (i, &w) in widths.iter().enumerate() {
        out.elems.push(elem(Some(i), layer[i], w, 3));
    }
    out.node_elem = (0..n).collect();
    // Chains of hops through dummy elements.
    for (ei, d) in dag.iter().enumerate() {
        let Some((a, b)) = *d else { continue };
        let rev = reversed[ei];
        let mut prev = a;
        let span = layer[b] - layer[a];
        for k in 1..=span {
            let next = if k == span {
                b
            } else {
                out.elems.push(elem(None, layer[a] + k, 1, 1));
                out.elems.len() - 1
            };
            let first = k == 1;
            let last = k == span;
            let carries = if rev { first } else { last };
            let hop = Hop {
                edge: ei,
                from: prev,
                to: next,
                y_from: 0,
                y_to: 0,
                xc: 0,
                label_x: carries.then_some(0),
                arrow: match (rev, first, last) {
                    (false, _, true) => Arrow::Right,
                    (true, true, _) => Arrow::Left,
                    _ => Arrow::None,
                },
            };
            out.hops.push(hop);
            let hi = out.hops.len() - 1;
            out.elems[prev].out_hops.push(hi);
            out.elems[next].in_hops.push(hi);
            prev = next;
        }
    }
    out.layers = vec![Vec::new(); n_layers];
    for (i, e) in out.elems.iter().enumerate() {
        out.layers[e.layer].push(i);
    }
    order(&mut out, p.sweeps);
    place(&mut out, p);
    out
}

fn elem(node: Option<usize>, layer: usize, w: u32, h: u32) -> Elem {
    Elem {
        node,
        layer,
        x: 0,
        y: 0,
        w,
        h,
        in_hops: Vec::new(),
        out_hops: Vec::new(),
    }
}

/// Marks the edges to reverse so that the rest is acyclic: the greedy
/// feedback-arc-set heuristic of Eades, Lin and Smyth (peel sinks and sources,
/// else take the node with the largest out − in), then reverse every edge that
/// points backwards in that order. Few reversals, and independent of visit order.
fn break_cycles(n: usize, edges: &[(usize, usize)]) -> Vec<bool> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let valid = |&(s, t): &(usize, usize)| s < n && t < n && s != t;
    let mut out_adj: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut in_adj: Vec<Vec<usize>> = vec![Vec::new(); n];
    let (mut indeg, mut outdeg) = (vec![0i64; n], vec![0i64; n]);
    for &(s, t) in edges.iter().filter(|e| valid(e)) {
        out_adj[s].push(t);
        in_adj[t].push(s);
        outdeg[s] += 1;
        indeg[t] += 1;
    }
    let mut removed = vec![false; n];
    let (mut head, mut tail) = (Vec::with_capacity(n), Vec::new());
    let mut sinks: Vec<usize> = (0..n).filter(|&v| outdeg[v] == 0).collect();
    let mut sources: Vec<usize> = (0..n).filter(|&v| indeg[v] == 0).collect();
    let mut heap: BinaryHeap<(i64, Reverse<usize>)> =
        (0..n).map(|v| (outdeg[v] - indeg[v], Reverse(v))).collect();
    let mut remaining = n;
    while remaining > 0 {
        let v = if let Some(v) = sinks.pop() {
            if removed[v] || outdeg[v] != 0 {
                continue;
            }
            tail.push(v);
            v
        } else if let Some(v) = sources.pop() {
            if removed[v] || indeg[v] != 0 {
                continue;
            }
            head.push(v);
            v
        } else {
            let Some((delta, Reverse(v))) = heap.pop() else {
                break;
            };
            if removed[v] || delta != outdeg[v] - indeg[v] {
                continue;
            }
            head.push(v);
            v
        };
        removed[v] = true;
        remaining -= 1;
        for &t in &out_adj[v] {
            if !removed[t] {
                indeg[t] -= 1;
                if indeg[t] == 0 {
                    sources.push(t);
                }
                heap.push((outdeg[t] - indeg[t], Reverse(t)));
            }
        }
        for &u in &in_adj[v] {
            if !removed[u] {
                outdeg[u] -= 1;
                if outdeg[u] == 0 {
                    sinks.push(u);
                }
                heap.push((outdeg[u] - indeg[u], Reverse(u)));
            }
        }
    }
    let mut pos = vec![0usize; n];
    for (i, &v) in head.iter().chain(tail.iter().rev()).enumerate() {
        pos[v] = i;
    }
    edges
        .iter()
        .map(|e| valid(e) && pos[e.0] > pos[e.1])
        .collect()
}

/// Longest path from the sources (Kahn's order).
fn longest_path(n: usize, dag: &[Option<(usize, usize)>]) -> Vec<usize> {
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut indeg = vec![0usize; n];
    for &(a, b) in dag.iter().flatten() {
        succ[a].push(b);
        indeg[b] += 1;
    }
    let sources: Vec<bool> = indeg.iter().map(|&d| d == 0).collect();
    let mut layer = vec![0usize; n];
    let mut topo = Vec::with_capacity(n);
    let mut queue: std::collections::VecDeque<usize> = (0..n).filter(|&v| indeg[v] == 0).collect();
    while let Some(v) = queue.pop_front() {
        topo.push(v);
        for &t in &succ[v] {
            layer[t] = layer[t].max(layer[v] + 1);
            indeg[t] -= 1;
            if indeg[t] == 0 {
                queue.push_back(t);
            }
        }
    }
    // Sources sit just left of their nearest callee, not all in the first column:
    // shorter edges, fewer dummies.
    for &v in topo.iter().rev() {
        if sources[v]
            && let Some(m) = succ[v].iter().map(|&t| layer[t]).min()
        {
            layer[v] = m.saturating_sub(1);
        }
    }
    layer
}

/// Barycentre ordering within layers.
fn order(l: &mut Layout, sweeps: usize) {
    let mut pos = vec![0f64; l.elems.len()];
    let refresh = |l: &Layout, pos: &mut Vec<f64>| {
        for layer in &l.layers {
            for (i, &e) in layer.iter().enumerate() {
                pos[e] = i as f64;
            }
        }
    };
    refresh(l, &mut pos);
    for _ in 0..sweeps {
        for down in [true, false] {
            let idx: Vec<usize> = if down {
                (1..l.layers.len()).collect()
            } else {
                (0..l.layers.len().saturating_sub(1)).rev().collect()
            };
            for li in idx {
                let mut keyed: Vec<(f64, usize)> = l.layers[li]
                    .iter()
                    .map(|&e| {
                        let hops = if down {
                            &l.elems[e].in_hops
                        } else {
                            &l.elems[e].out_hops
                        };
                        let mut sum = 0.0;
                        for &h in hops {
                            let other = if down { l.hops[h].from } else { l.hops[h].to };
                            sum += pos[other];
                        }
                        let key = if hops.is_empty() {
                            pos[e]
                        } else {
                            sum / hops.len() as f64
                        };
                        (key, e)
                    })
                    .collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
                l.layers[li] = keyed.into_iter().map(|(_, e)| e).collect();
                for (i, &e) in l.layers[li].iter().enumerate() {
                    pos[e] = i as f64;
                }
            }
        }
    }
}

/// Ports, heights, y (aligned to callers where room allows), x and channels.
fn place(l: &mut Layout, p: LayoutParams) {
    let mut rank = vec![0usize; l.elems.len()];
    for layer in &l.layers {
        for (i, &e) in layer.iter().enumerate() {
            rank[e] = i;
        }
    }
    // Port order follows the other end's rank; port k sits on row 1 + k (row 0 for dummies).
    let mut in_port = vec![0u32; l.hops.len()];
    let mut out_port = vec![0u32; l.hops.len()];
    for e in 0..l.elems.len() {
        let mut ins = std::mem::take(&mut l.elems[e].in_hops);
        ins.sort_by_key(|&h| rank[l.hops[h].from]);
        let mut outs = std::mem::take(&mut l.elems[e].out_hops);
        outs.sort_by_key(|&h| rank[l.hops[h].to]);
        let dummy = l.elems[e].node.is_none();
        for (k, &h) in ins.iter().enumerate() {
            in_port[h] = if dummy { 0 } else { 1 + k as u32 };
        }
        for (k, &h) in outs.iter().enumerate() {
            out_port[h] = if dummy { 0 } else { 1 + k as u32 };
        }
        if !dummy {
            l.elems[e].h = 3u32.max(ins.len().max(outs.len()) as u32 + 2);
        }
        l.elems[e].in_hops = ins;
        l.elems[e].out_hops = outs;
    }
    // y: stack each layer, pulling each element towards its callers' ports.
    let mut height = 0;
    for li in 0..l.layers.len() {
        let mut cursor = 0u32;
        for k in 0..l.layers[li].len() {
            let e = l.layers[li][k];
            let ins = &l.elems[e].in_hops;
            let desired = if ins.is_empty() {
                0
            } else {
                let sum: u64 = ins
                    .iter()
                    .map(|&h| {
                        let from = &l.elems[l.hops[h].from];
                        u64::from((from.y + out_port[h]).saturating_sub(in_port[h]))
                    })
                    .sum();
                (sum / ins.len() as u64) as u32
            };
            let y = cursor.max(desired);
            l.elems[e].y = y;
            cursor = y + l.elems[e].h + 1;
        }
        height = height.max(cursor.saturating_sub(1));
    }
    // x: columns as wide as their widest box; gaps sized for channels and labels.
    let mut x = 0u32;
    let mut gap_start = Vec::with_capacity(l.layers.len());
    let mut channels = Vec::with_capacity(l.layers.len());
    let mut per_gap = vec![0u32; l.layers.len()];
    for h in &l.hops {
        per_gap[l.elems[h.from].layer] += 1;
    }
    for (li, layer) in l.layers.iter().enumerate() {
        let w = layer
            .iter()
            .map(|&e| {
                if l.elems[e].node.is_some() {
                    l.elems[e].w
                } else {
                    2
                }
            })
            .max()
            .unwrap_or(2);
        for &e in layer {
            l.elems[e].x = x;
            if l.elems[e].node.is_none() {
                l.elems[e].w = w;
            }
        }
        let c = per_gap[li].clamp(1, p.max_channels.max(1));
        l.columns.push((x, w));
        gap_start.push(x + w);
        channels.push(c);
        x += w;
        if li + 1 < l.layers.len() {
            x += c + p.label_w + 4;
        }
    }
    l.width = x;
    l.height = height;
    // Channels: hops of a gap in order of their upper end, spread over the gap's channels.
    let mut by_gap: Vec<Vec<usize>> = vec![Vec::new(); l.layers.len()];
    for (i, h) in l.hops.iter().enumerate() {
        by_gap[l.elems[h.from].layer].push(i);
    }
    for (g, hops) in by_gap.iter_mut().enumerate() {
        for &h in hops.iter() {
            let (f, t) = (l.hops[h].from, l.hops[h].to);
            l.hops[h].y_from = l.elems[f].y + out_port[h];
            l.hops[h].y_to = l.elems[t].y + in_port[h];
        }
        hops.sort_by_key(|&h| (l.hops[h].y_from.min(l.hops[h].y_to), l.hops[h].y_to));
        *hops = channel_order(&l.hops, hops);
        let c = channels[g];
        for (k, &h) in hops.iter().enumerate() {
            let hop = &mut l.hops[h];
            hop.xc = gap_start[g] + 1 + (k as u32 % c);
            if hop.label_x.is_some() {
                hop.label_x = Some(gap_start[g] + c + 2);
            }
        }
    }
}

/// Orders the hops of one gap for channel assignment (left to right). A hop
/// that leaves on the row where another arrives must take a channel left of
/// it, or their horizontal segments would merge into one ambiguous line. Each
/// row has at most one leaving and one arriving hop, so the constraints are
/// chains: emit each chain from its free end; leftovers (cycles) keep `base` order.
fn channel_order(all: &[Hop], base: &[usize]) -> Vec<usize> {
    use std::collections::HashMap;
    let leaving: HashMap<u32, usize> = base
        .iter()
        .filter(|&&h| all[h].y_from != all[h].y_to)
        .map(|&h| (all[h].y_from, h))
        .collect();
    // before[a] = the hop that must come before `a`.
    let before = |a: usize| {
        leaving
            .get(&all[a].y_to)
            .copied()
            .filter(|&b| b != a && all[a].y_from != all[a].y_to)
    };
    let mut has_dependent: std::collections::HashSet<usize> = std::collections::HashSet::new();
    for &a in base {
        if let Some(b) = before(a) {
            has_dependent.insert(b);
        }
    }
    let mut done = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(base.len());
    // Walk each chain from its last hop back to its first, then emit first → last.
    for &end in base {
        if has_dependent.contains(&end) || done.contains(&end) {
            continue;
        }
        let mut chain = vec![end];
        let mut cur = end;
        while let Some(b) = before(cur) {
            if done.contains(&b) || chain.contains(&b) {
                break;
            }
            chain.push(b);
            cur = b;
        }
        for &h in chain.iter().rev() {
            if done.insert(h) {
                out.push(h);
            }
        }
    }
    for &h in base {
        if done.insert(h) {
            out.push(h);
        }
    }
    out
}
