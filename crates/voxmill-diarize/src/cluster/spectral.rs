//! Spectral clustering of unit vectors with the number of clusters read from the eigengap.
//!
//! 1. Affinity: cosine similarity, negatives clipped to 0, no self-loops.
//! 2. Row-wise pruning: each row keeps only its `p` strongest entries (`p ≈ √n`, at least 4), then the matrix is
//!    symmetrised as `(P + Pᵀ) / 2`. Pruning keeps mostly same-speaker links, so speakers become (nearly)
//!    disconnected components of the graph — the idea behind the refinement steps of Wang et al. (2018) and
//!    NME-SC (Park et al., 2019), without NME's search over `p`.
//! 3. Symmetric normalised Laplacian `L = I - D^-1/2 A D^-1/2`; its small eigenvalues count the components.
//! 4. `k` = the position of the largest gap between consecutive eigenvalues of `L` (among the first 32, or up to
//!    `k_max` if that is larger), clamped to `[k_min, k_max]`.
//! 5. Rows of the `k` first eigenvectors, scaled to unit length (Ng–Jordan–Weiss), clustered by k-means.

use crate::linalg::{SymmetricEigen, dot, kmeans};

/// The eigengap is looked for among at least this many clusters, whatever the upper bound on speakers.
const SPECTRAL_SEARCH_MAX: usize = 32;

/// Neighbours each row keeps when pruning the affinity of `n` points.
pub(crate) fn pruning_neighbours(n: usize) -> usize {
    ((n as f64).sqrt().ceil() as usize).max(4).min(n.saturating_sub(1))
}

/// Spectral clustering of the unit rows of `points` (`n × dim`, row-major) into `k` clusters, where `k` is either
/// `fixed` or the eigengap choice within `[k_min, k_max]`. Needs `n ≥ 3`. Labels are `0..k` in any order.
pub(crate) fn spectral(points: &[f32], dim: usize, k_min: usize, k_max: usize, fixed: Option<usize>) -> Vec<usize> {
    let n = points.len() / dim;
    debug_assert!(n >= 3);
    let row = |i: usize| &points[i * dim..(i + 1) * dim];

    // 1–2. Pruned, symmetrised affinity.
    let p = pruning_neighbours(n);
    let mut affinity = vec![0.0f64; n * n];
    let mut sims: Vec<(f32, usize)> = Vec::with_capacity(n);
    for i in 0..n {
        sims.clear();
        sims.extend((0..n).filter(|&j| j != i).map(|j| (dot(row(i), row(j)).max(0.0), j)));
        sims.select_nth_unstable_by(p - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(s, j) in &sims[..p] {
            affinity[i * n + j] += 0.5 * s as f64;
            affinity[j * n + i] += 0.5 * s as f64;
        }
    }

    // 3. M = D^-1/2 A D^-1/2, whose largest eigenvalues are 1 - the smallest of L.
    let inv_sqrt_degree: Vec<f64> = (0..n)
        .map(|i| {
            let d: f64 = affinity[i * n..(i + 1) * n].iter().sum();
            if d > 0.0 { 1.0 / d.sqrt() } else { 0.0 }
        })
        .collect();
    for i in 0..n {
        for j in 0..n {
            affinity[i * n + j] *= inv_sqrt_degree[i] * inv_sqrt_degree[j];
        }
    }

    // 4. Eigengap, searched over a wide range and then clamped to the bounds: when the true count lies outside
    //    them, the gaps inside are all noise and would give an arbitrary answer.
    let eig = SymmetricEigen::new(affinity, n);
    let k = match fixed {
        Some(k) => k.clamp(1, n),
        None => {
            let search = k_max.max(SPECTRAL_SEARCH_MAX).min(n - 1);
            let laplacian: Vec<f64> = eig.largest(search + 1).iter().map(|m| 1.0 - m).collect();
            eigengap(&laplacian, 1, search).clamp(k_min, k_max)
        }
    };
    if k == 1 {
        return vec![0; n];
    }

    // 5. Embedding and k-means.
    let vectors = eig.vectors(&eig.largest(k));
    let embedding: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let mut r: Vec<f64> = vectors.iter().map(|v| v[i]).collect();
            let norm = r.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm > 0.0 {
                r.iter_mut().for_each(|x| *x /= norm);
            }
            r
        })
        .collect();
    kmeans(&embedding, k)
}

/// The `k` in `[k_min, k_max]` after which the ascending eigenvalues `laplacian` jump the most.
pub(crate) fn eigengap(laplacian: &[f64], k_min: usize, k_max: usize) -> usize {
    let k_max = k_max.min(laplacian.len().saturating_sub(1)).max(1);
    let k_min = k_min.clamp(1, k_max);
    (k_min..=k_max)
        .max_by(|&a, &b| {
            let (ga, gb) = (laplacian[a] - laplacian[a - 1], laplacian[b] - laplacian[b - 1]);
            // On a tie prefer fewer clusters.
            ga.total_cmp(&gb).then(b.cmp(&a))
        })
        .unwrap_or(k_min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigengap_picks_the_largest_jump_within_bounds() {
        let l = [0.0, 0.0, 0.01, 0.6, 0.62, 0.9];
        assert_eq!(eigengap(&l, 1, 5), 3);
        assert_eq!(eigengap(&l, 1, 2), 2); // jumps: 0 at k=1, 0.01 at k=2
        assert_eq!(eigengap(&l, 4, 5), 5); // 0.02 at k=4, 0.28 at k=5
        assert_eq!(eigengap(&[0.0, 0.5, 0.55], 1, 2), 1);
    }

    #[test]
    fn pruning_neighbours_is_bounded() {
        assert_eq!(pruning_neighbours(3), 2);
        assert_eq!(pruning_neighbours(10), 4);
        assert_eq!(pruning_neighbours(100), 10);
        assert_eq!(pruning_neighbours(1000), 32);
    }

    #[test]
    fn two_orthogonal_groups_split_cleanly() {
        // Points near e0 and near e1 in 3-d.
        let mut pts = Vec::new();
        for i in 0..10 {
            let t = i as f32 * 0.02;
            let (a, b) = if i < 5 { (1.0, t) } else { (t, 1.0) };
            let norm = (a * a + b * b + 0.01f32).sqrt();
            pts.extend([a / norm, b / norm, 0.1 / norm]);
        }
        let labels = spectral(&pts, 3, 1, 4, None);
        assert!(labels[..5].iter().all(|&l| l == labels[0]));
        assert!(labels[5..].iter().all(|&l| l == labels[5]));
        assert_ne!(labels[0], labels[5]);
    }
}
