//! Optimal one-to-one assignment (the Hungarian method, in its shortest-augmenting-path form with row and
//! column potentials, `O(n² m)`), used to map hypothesis speakers onto reference speakers for DER.

/// For a `rows × cols` weight matrix, a one-to-one matching of rows to columns with the greatest total weight.
/// Returns, for each row, its column (`None` for rows left over when there are more rows than columns).
pub(crate) fn max_weight_matching(weights: &[Vec<f64>]) -> Vec<Option<usize>> {
    let rows = weights.len();
    let cols = weights.first().map_or(0, Vec::len);
    if rows == 0 || cols == 0 {
        return vec![None; rows];
    }
    let top = weights.iter().flatten().fold(f64::NEG_INFINITY, |m, &w| m.max(w));
    if rows <= cols {
        let cost: Vec<Vec<f64>> = weights.iter().map(|r| r.iter().map(|w| top - w).collect()).collect();
        min_cost_assignment(&cost).into_iter().map(Some).collect()
    } else {
        let cost: Vec<Vec<f64>> = (0..cols).map(|c| (0..rows).map(|r| top - weights[r][c]).collect()).collect();
        let mut out = vec![None; rows];
        for (c, r) in min_cost_assignment(&cost).into_iter().enumerate() {
            out[r] = Some(c);
        }
        out
    }
}

/// Minimum-cost assignment of every row to a distinct column (`rows ≤ cols`): returns each row's column.
///
/// Rows are added one at a time; each addition finds the cheapest augmenting path in the reduced costs
/// `cost[r][c] - row_pot[r] - col_pot[c]` (Dijkstra over columns), then updates the potentials so reduced costs
/// stay non-negative. Index 0 of the column arrays is a virtual column where each new row starts.
fn min_cost_assignment(cost: &[Vec<f64>]) -> Vec<usize> {
    let rows = cost.len();
    let cols = cost[0].len();
    assert!(rows <= cols, "more rows than columns");
    let mut row_pot = vec![0.0; rows + 1];
    let mut col_pot = vec![0.0; cols + 1];
    // owner[c] = 1-based row assigned to column c (0: free); column 0 is virtual.
    let mut owner = vec![0usize; cols + 1];
    let mut came_from = vec![0usize; cols + 1];
    for row in 1..=rows {
        owner[0] = row;
        let mut current = 0usize;
        let mut dist = vec![f64::INFINITY; cols + 1];
        let mut done = vec![false; cols + 1];
        loop {
            done[current] = true;
            let r = owner[current];
            let mut delta = f64::INFINITY;
            let mut next = 0usize;
            for c in 1..=cols {
                if done[c] {
                    continue;
                }
                let reduced = cost[r - 1][c - 1] - row_pot[r] - col_pot[c];
                if reduced < dist[c] {
                    dist[c] = reduced;
                    came_from[c] = current;
                }
                if dist[c] < delta {
                    delta = dist[c];
                    next = c;
                }
            }
            for c in 0..=cols {
                if done[c] {
                    row_pot[owner[c]] += delta;
                    col_pot[c] -= delta;
                } else {
                    dist[c] -= delta;
                }
            }
            current = next;
            if owner[current] == 0 {
                break;
            }
        }
        // Flip the augmenting path back to the virtual column.
        while current != 0 {
            let previous = came_from[current];
            owner[current] = owner[previous];
            current = previous;
        }
    }
    let mut assignment = vec![0; rows];
    for c in 1..=cols {
        if owner[c] != 0 {
            assignment[owner[c] - 1] = c - 1;
        }
    }
    assignment
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    /// Best total by trying every injective map of rows into columns (small sizes only).
    fn brute_force(w: &[Vec<f64>]) -> f64 {
        fn go(w: &[Vec<f64>], row: usize, used: &mut Vec<bool>) -> f64 {
            if row == w.len() {
                return 0.0;
            }
            let mut best = go(w, row + 1, used); // row left unmatched (only matters when rows > cols)
            for c in 0..used.len() {
                if !used[c] {
                    used[c] = true;
                    best = best.max(w[row][c] + go(w, row + 1, used));
                    used[c] = false;
                }
            }
            best
        }
        go(w, 0, &mut vec![false; w[0].len()])
    }

    fn total(w: &[Vec<f64>], m: &[Option<usize>]) -> f64 {
        m.iter().enumerate().filter_map(|(r, c)| c.map(|c| w[r][c])).sum()
    }

    #[test]
    fn matches_brute_force_on_random_rectangular_matrices() {
        let mut rng = SplitMix64::new(5);
        for rows in 1..=5 {
            for cols in 1..=5 {
                for _ in 0..20 {
                    let w: Vec<Vec<f64>> =
                        (0..rows).map(|_| (0..cols).map(|_| (rng.next_f64() * 10.0).floor()).collect()).collect();
                    let m = max_weight_matching(&w);
                    let mut seen: Vec<usize> = m.iter().flatten().copied().collect();
                    assert_eq!(seen.len(), rows.min(cols));
                    seen.sort_unstable();
                    seen.dedup();
                    assert_eq!(seen.len(), rows.min(cols), "one-to-one");
                    assert!((total(&w, &m) - brute_force(&w)).abs() < 1e-9, "{w:?}");
                }
            }
        }
    }

    #[test]
    fn obvious_permutation() {
        let w = vec![vec![0.0, 5.0, 0.0], vec![0.0, 0.0, 7.0], vec![3.0, 0.0, 0.0]];
        assert_eq!(max_weight_matching(&w), vec![Some(1), Some(2), Some(0)]);
        assert_eq!(max_weight_matching(&[]), Vec::<Option<usize>>::new());
    }
}
