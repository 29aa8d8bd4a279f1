//! Average-linkage agglomerative clustering by the nearest-neighbour chain algorithm: `O(n²)` time and one
//! `n × n` `f32` distance matrix (25 MB at the default cap of 2,500 points).
//!
//! Average linkage is "reducible", so the nearest-neighbour chain builds exactly the dendrogram of the naive
//! "always merge the closest pair" algorithm, just in a different order. Cutting the dendrogram at a height or at a
//! cluster count is then a union-find over the merges sorted by height.

/// One merge of the dendrogram: the clusters containing points `a` and `b` joined at `height`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Merge {
    pub a: usize,
    pub b: usize,
    pub height: f32,
}

/// The full dendrogram of `n` items, given their symmetric `n × n` distance matrix (row-major, consumed) and the
/// weight of each item (1 for single points; member counts when the items are already clusters, which makes the
/// Lance–Williams update exact average linkage over the underlying points). Merges come sorted by height.
pub(crate) fn dendrogram(mut dist: Vec<f32>, weights: &[f64]) -> Vec<Merge> {
    let n = weights.len();
    assert_eq!(dist.len(), n * n, "distance matrix is not n × n");
    let mut weight = weights.to_vec();
    let mut active = vec![true; n];
    let mut merges = Vec::with_capacity(n.saturating_sub(1));
    let mut chain: Vec<usize> = Vec::with_capacity(n);
    let mut next_start = 0;
    while merges.len() + 1 < n {
        if chain.is_empty() {
            while !active[next_start] {
                next_start += 1;
            }
            chain.push(next_start);
        }
        let top = *chain.last().expect("chain is not empty");
        let previous = chain.len().checked_sub(2).map(|i| chain[i]);
        // Nearest active neighbour of `top`; ties go to the previous chain element so the chain cannot cycle.
        let row = &dist[top * n..(top + 1) * n];
        let mut nearest = previous.unwrap_or(usize::MAX);
        let mut best = previous.map_or(f32::INFINITY, |p| row[p]);
        for (j, &d) in row.iter().enumerate() {
            if d < best && active[j] && j != top {
                best = d;
                nearest = j;
            }
        }
        if Some(nearest) == previous {
            chain.truncate(chain.len() - 2);
            let (a, b) = (top, nearest);
            merges.push(Merge { a, b, height: best });
            // Merge `a` into `b`: d(a∪b, k) = (w_a d(a,k) + w_b d(b,k)) / (w_a + w_b).
            let (wa, wb) = (weight[a], weight[b]);
            let total = wa + wb;
            for k in 0..n {
                if active[k] && k != a && k != b {
                    let d = ((wa * dist[a * n + k] as f64 + wb * dist[b * n + k] as f64) / total) as f32;
                    dist[b * n + k] = d;
                    dist[k * n + b] = d;
                }
            }
            weight[b] = total;
            active[a] = false;
        } else {
            chain.push(nearest);
        }
    }
    merges.sort_by(|x, y| x.height.total_cmp(&y.height));
    merges
}

/// Number of clusters left after applying every merge lower than `threshold`.
pub(crate) fn clusters_below(n: usize, merges: &[Merge], threshold: f32) -> usize {
    n - merges.iter().take_while(|m| m.height < threshold).count()
}

/// Labels (`0..k`, in order of first appearance) after applying the `n - k` lowest merges, i.e. exactly `k`
/// clusters (`1 ≤ k ≤ n`).
pub(crate) fn cut(n: usize, merges: &[Merge], k: usize) -> Vec<usize> {
    let k = k.clamp(1, n.max(1));
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for m in &merges[..n - k] {
        let (ra, rb) = (find(&mut parent, m.a), find(&mut parent, m.b));
        if ra != rb {
            parent[ra] = rb;
        }
    }
    let mut label_of_root = vec![usize::MAX; n];
    let mut next = 0;
    (0..n)
        .map(|i| {
            let r = find(&mut parent, i);
            if label_of_root[r] == usize::MAX {
                label_of_root[r] = next;
                next += 1;
            }
            label_of_root[r]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance matrix of points on a line.
    fn line(points: &[f32]) -> Vec<f32> {
        points.iter().flat_map(|a| points.iter().map(move |b| (a - b).abs())).collect()
    }

    #[test]
    fn average_linkage_heights_match_a_hand_computation() {
        // Points 0, 1, 5, 7: {0,1} at 1, {5,7} at 2, then average of |0-5|,|0-7|,|1-5|,|1-7| = (5+7+4+6)/4 = 5.5.
        let merges = dendrogram(line(&[0.0, 1.0, 5.0, 7.0]), &[1.0; 4]);
        let heights: Vec<f32> = merges.iter().map(|m| m.height).collect();
        assert_eq!(heights, vec![1.0, 2.0, 5.5]);
        assert_eq!(cut(4, &merges, 2), vec![0, 0, 1, 1]);
        assert_eq!(cut(4, &merges, 1), vec![0, 0, 0, 0]);
        assert_eq!(cut(4, &merges, 4), vec![0, 1, 2, 3]);
        assert_eq!(clusters_below(4, &merges, 1.5), 3);
        assert_eq!(clusters_below(4, &merges, 3.0), 2);
        assert_eq!(clusters_below(4, &merges, 10.0), 1);
    }

    #[test]
    fn weights_make_cluster_level_linkage_exact() {
        // Item 0 stands for two points at 0, item 1 for one point at 3, item 2 for one point at 4.
        // Average linkage of {0,0} with {3,4} after merging 1 and 2 = (3+4+3+4)/4 = 3.5.
        let merges = dendrogram(line(&[0.0, 3.0, 4.0]), &[2.0, 1.0, 1.0]);
        assert_eq!(merges[1].height, 3.5);
    }

    #[test]
    fn ties_terminate_and_give_a_full_dendrogram() {
        let merges = dendrogram(vec![0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0], &[1.0; 3]);
        assert_eq!(merges.len(), 2);
        assert!(merges.iter().all(|m| m.height == 1.0));
        assert_eq!(cut(3, &merges, 1), vec![0, 0, 0]);
    }

    #[test]
    fn single_item_has_no_merges() {
        let merges = dendrogram(vec![0.0], &[1.0]);
        assert!(merges.is_empty());
        assert_eq!(cut(1, &merges, 1), vec![0]);
    }
}
