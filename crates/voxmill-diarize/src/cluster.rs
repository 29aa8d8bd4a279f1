//! Clustering speaker embeddings into speakers, with the number of speakers found automatically.
//!
//! # Strategy
//!
//! * Every embedding is L2-normalised (again), so cosine similarity is a dot product.
//! * **Bounded cost.** A 3-hour recording gives ~15–20k windows; exact clustering of all of them would need a
//!   20k × 20k matrix. At most [`ClusterOptions::max_points`] *representatives* (default 2,500) are clustered —
//!   an evenly spaced subsample, which keeps every part of the recording represented — and
//!   spectral clustering, whose eigen-decomposition is cubic, uses at most [`ClusterOptions::max_spectral_points`]
//!   of those (default 1,000). The other embeddings are then given to the nearest centroid. Memory is one
//!   `max_points²` `f32` matrix (25 MB), time is `O(max_points² · dim + n · k · dim)`.
//!   The price: a speaker with only a handful of representatives (roughly fewer than `5 · n / max_points`
//!   windows in all) may not form a cluster of its own, and its windows then go to the nearest other speaker.
//! * **Agglomerative**: average linkage on cosine distance (nearest-neighbour chain, `O(m²)`), cut where merging
//!   would join groups farther apart than [`ClusterOptions::threshold`], or at exactly the requested count.
//!   Average linkage between groups of unit vectors is `1 - mean_a · mean_b`, which is what makes the cluster
//!   level merges below exact. The threshold must sit clearly above the typical within-speaker distance: windows
//!   noisier than average otherwise end up in groups of their own just beyond it (the tiny-cluster rule catches
//!   the small ones; spectral clustering's merge of whole clusters is more forgiving here).
//! * **Spectral**: pruned cosine affinity, normalised Laplacian, eigengap for the count, k-means on the
//!   eigenvectors (see `spectral.rs`). The eigengap alone tends to split one speaker whose recording conditions
//!   change, so (unless the count is forced) clusters whose average-linkage distance is below the threshold are
//!   merged afterwards: the threshold means "same speaker" for both methods.
//! * **Auto**: spectral when there are at least [`AUTO_SPECTRAL_MIN_POINTS`] embeddings (its graph needs
//!   enough points per speaker to be meaningful), agglomerative below that.
//! * **Tiny clusters**: a cluster with fewer than `max(min_cluster_size, min_cluster_fraction · n)` members is
//!   merged, smallest first, into the nearest cluster that is not tiny, as long as more than the minimum number
//!   of speakers remain (and left alone when no cluster is big). Such clusters are usually noise, laughter or
//!   overlapped speech.
//! * Bounds: `num_speakers` forces the count exactly (up to the number of embeddings); otherwise the estimate
//!   is clamped to `[min_speakers, max_speakers]`.

mod ahc;
mod spectral;

use serde::{Deserialize, Serialize};

use crate::linalg::dot;

/// Below this many embeddings `Method::Auto` uses agglomerative clustering rather than spectral.
pub const AUTO_SPECTRAL_MIN_POINTS: usize = 40;

/// Spectral clustering needs a graph; below this many points it falls back to agglomerative clustering.
const SPECTRAL_MIN_POINTS: usize = 8;

/// Which clustering algorithm [`cluster`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Average-linkage agglomerative clustering cut at the distance threshold: robust, and never splits a single
    /// speaker whose embeddings are within the threshold.
    Agglomerative,
    /// Spectral clustering with the count from the eigengap: better at separating similar voices.
    Spectral,
    /// Spectral for enough points, agglomerative for few (see [`AUTO_SPECTRAL_MIN_POINTS`]).
    #[default]
    Auto,
}

/// How to cluster; every field is a user-facing setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterOptions {
    /// Cosine distance (`0..=2`) below which two groups of embeddings are the same speaker (average linkage).
    /// Model-dependent; lower finds more speakers. Default 0.5.
    pub threshold: f32,
    /// The exact number of speakers, when known; overrides the threshold and the bounds.
    pub num_speakers: Option<usize>,
    /// Lower bound on the estimated number of speakers.
    pub min_speakers: Option<usize>,
    /// Upper bound on the estimated number of speakers.
    pub max_speakers: Option<usize>,
    /// The algorithm. Default [`Method::Auto`].
    pub method: Method,
    /// Clusters with fewer members than this are merged into their nearest neighbour. Default 5.
    pub min_cluster_size: usize,
    /// Clusters with fewer than this fraction of all embeddings are merged into their nearest neighbour too.
    /// Default 0.001 (20 of 20,000 windows).
    pub min_cluster_fraction: f32,
    /// At most this many representatives are clustered (memory `max_points² × 4` bytes); the rest are assigned to
    /// the nearest centroid. Default 2,500.
    pub max_points: usize,
    /// At most this many representatives go into spectral clustering (time grows as its cube). Default 1,000.
    pub max_spectral_points: usize,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            num_speakers: None,
            min_speakers: None,
            max_speakers: None,
            method: Method::Auto,
            min_cluster_size: 5,
            min_cluster_fraction: 0.001,
            max_points: 2500,
            max_spectral_points: 1000,
        }
    }
}

/// The result: one label per embedding and one centroid per label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clustering {
    /// Speaker label of each embedding, `0..centroids.len()`, numbered in order of first appearance.
    pub labels: Vec<usize>,
    /// L2-normalised mean embedding of each speaker, indexed by label.
    pub centroids: Vec<Vec<f32>>,
}

impl Clustering {
    /// Number of speakers found.
    pub fn num_speakers(&self) -> usize {
        self.centroids.len()
    }
}

/// Why embeddings could not be clustered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClusterError {
    /// Embeddings must all have the same, non-zero length.
    #[error("embedding {index} has {found} dimensions but embedding 0 has {expected}")]
    DimensionMismatch {
        /// The offending embedding.
        index: usize,
        /// Its length.
        found: usize,
        /// The length of the first embedding.
        expected: usize,
    },
    /// Zero-length embeddings carry nothing to cluster on.
    #[error("embeddings have zero dimensions")]
    EmptyEmbedding,
    /// NaN or infinite values mean the embedding model failed on that window.
    #[error("embedding {index} contains a non-finite value (NaN or infinity)")]
    NonFinite {
        /// The offending embedding.
        index: usize,
    },
    /// An all-zero vector has no direction, so no cosine distance (typically a window of digital silence).
    #[error("embedding {index} is all zeros and cannot be normalised; leave silent windows out")]
    ZeroNorm {
        /// The offending embedding.
        index: usize,
    },
    /// The options contradict themselves or are out of range.
    #[error("invalid clustering options: {0}")]
    InvalidOptions(String),
}

/// Clusters speaker embeddings (any scale; they are L2-normalised here) into speakers. See the module
/// documentation for the strategy and its costs.
pub fn cluster(embeddings: &[Vec<f32>], options: &ClusterOptions) -> Result<Clustering, ClusterError> {
    validate(options)?;
    let n = embeddings.len();
    if n == 0 {
        return Ok(Clustering { labels: Vec::new(), centroids: Vec::new() });
    }
    let (data, dim) = normalised(embeddings)?;
    let point = |i: usize| &data[i * dim..(i + 1) * dim];
    let (k_min, k_max) = bounds(options, n);

    // Representatives: an even subsample when there are too many points.
    let method = match options.method {
        Method::Auto if n >= AUTO_SPECTRAL_MIN_POINTS => Method::Spectral,
        Method::Auto => Method::Agglomerative,
        m => m,
    };
    let cap = match method {
        Method::Spectral => options.max_spectral_points.min(options.max_points),
        _ => options.max_points,
    };
    let reps = subsample(n, cap);
    let rep_data: Vec<f32> = reps.iter().flat_map(|&i| point(i).iter().copied()).collect();
    let m = reps.len();

    let rep_labels = if m == 1 {
        vec![0]
    } else if method == Method::Spectral && m >= SPECTRAL_MIN_POINTS {
        let labels =
            spectral::spectral(&rep_data, dim, k_min.min(m), k_max.min(m), options.num_speakers.map(|_| k_min));
        if options.num_speakers.is_some() {
            labels
        } else {
            merge_below_threshold(&rep_data, dim, &labels, options.threshold, k_min)
        }
    } else {
        agglomerative(&rep_data, dim, options.threshold, k_min.min(m), k_max.min(m))
    };

    // Every point's label: the representatives' own labels when nothing was left out, else the nearest centroid.
    let mut labels = if m == n {
        rep_labels
    } else {
        let centroids = centroids_of(&rep_data, dim, &rep_labels);
        (0..n).map(|i| nearest(point(i), &centroids, |_| true)).collect()
    };

    let min_size = options.min_cluster_size.max((options.min_cluster_fraction as f64 * n as f64).ceil() as usize);
    absorb_tiny_clusters(&data, dim, &mut labels, min_size, k_min);
    let labels = renumber(&labels);
    let centroids = centroids_of(&data, dim, &labels);
    Ok(Clustering { labels, centroids })
}

fn validate(o: &ClusterOptions) -> Result<(), ClusterError> {
    let bad = |msg: String| Err(ClusterError::InvalidOptions(msg));
    if !(o.threshold.is_finite() && (0.0..=2.0).contains(&o.threshold)) {
        return bad(format!("threshold must be a cosine distance in 0..=2, got {}", o.threshold));
    }
    if o.num_speakers == Some(0) || o.min_speakers == Some(0) || o.max_speakers == Some(0) {
        return bad("speaker counts must be at least 1 (leave them unset for no bound)".into());
    }
    if let (Some(lo), Some(hi)) = (o.min_speakers, o.max_speakers)
        && lo > hi
    {
        return bad(format!("min_speakers ({lo}) is greater than max_speakers ({hi})"));
    }
    if !(o.min_cluster_fraction.is_finite() && (0.0..1.0).contains(&o.min_cluster_fraction)) {
        return bad(format!("min_cluster_fraction must be in 0..1, got {}", o.min_cluster_fraction));
    }
    if o.max_points < 2 || o.max_spectral_points < 2 {
        return bad("max_points and max_spectral_points must be at least 2".into());
    }
    Ok(())
}

/// The embeddings as one row-major matrix of unit rows, and their dimension.
fn normalised(embeddings: &[Vec<f32>]) -> Result<(Vec<f32>, usize), ClusterError> {
    let dim = embeddings[0].len();
    if dim == 0 {
        return Err(ClusterError::EmptyEmbedding);
    }
    let mut data = Vec::with_capacity(embeddings.len() * dim);
    for (index, e) in embeddings.iter().enumerate() {
        if e.len() != dim {
            return Err(ClusterError::DimensionMismatch { index, found: e.len(), expected: dim });
        }
        if !e.iter().all(|x| x.is_finite()) {
            return Err(ClusterError::NonFinite { index });
        }
        let norm = e.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
        if norm == 0.0 {
            return Err(ClusterError::ZeroNorm { index });
        }
        data.extend(e.iter().map(|&x| (x as f64 / norm) as f32));
    }
    Ok((data, dim))
}

/// `(k_min, k_max)` for `n` points: both equal to `num_speakers` when it is set, everything within `1..=n`.
fn bounds(o: &ClusterOptions, n: usize) -> (usize, usize) {
    match o.num_speakers {
        Some(k) => (k.min(n), k.min(n)),
        None => {
            let lo = o.min_speakers.unwrap_or(1).min(n);
            let hi = o.max_speakers.unwrap_or(n).clamp(lo, n);
            (lo, hi)
        }
    }
}

/// Indices of at most `cap` points spread evenly over `0..n` (all of them when `n ≤ cap`).
fn subsample(n: usize, cap: usize) -> Vec<usize> {
    if n <= cap {
        return (0..n).collect();
    }
    (0..cap).map(|i| i * n / cap).collect()
}

/// Cosine distances between all rows, as a full symmetric matrix.
fn distance_matrix(data: &[f32], dim: usize) -> Vec<f32> {
    let m = data.len() / dim;
    let mut dist = vec![0.0f32; m * m];
    for i in 0..m {
        let a = &data[i * dim..(i + 1) * dim];
        for j in 0..i {
            let d = (1.0 - dot(a, &data[j * dim..(j + 1) * dim])).clamp(0.0, 2.0);
            dist[i * m + j] = d;
            dist[j * m + i] = d;
        }
    }
    dist
}

/// Average-linkage clustering of unit rows, cut at the threshold, then clamped to `[k_min, k_max]` clusters.
fn agglomerative(data: &[f32], dim: usize, threshold: f32, k_min: usize, k_max: usize) -> Vec<usize> {
    let m = data.len() / dim;
    let merges = ahc::dendrogram(distance_matrix(data, dim), &vec![1.0; m]);
    let k = ahc::clusters_below(m, &merges, threshold).clamp(k_min, k_max);
    ahc::cut(m, &merges, k)
}

/// Merges clusters (given by `labels` over unit rows) whose average-linkage cosine distance is below `threshold`,
/// keeping at least `k_min` clusters.
fn merge_below_threshold(data: &[f32], dim: usize, labels: &[usize], threshold: f32, k_min: usize) -> Vec<usize> {
    let (sums, counts) = sums_of(data, dim, labels);
    let k = sums.len();
    if k <= 1 {
        return labels.to_vec();
    }
    let mut dist = vec![0.0f32; k * k];
    for a in 0..k {
        for b in 0..a {
            let d = (1.0 - dot(&sums[a], &sums[b]) as f64 / (counts[a] * counts[b]) as f64).clamp(0.0, 2.0) as f32;
            dist[a * k + b] = d;
            dist[b * k + a] = d;
        }
    }
    let weights: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
    let merges = ahc::dendrogram(dist, &weights);
    let target = ahc::clusters_below(k, &merges, threshold).max(k_min.min(k));
    let cluster_label = ahc::cut(k, &merges, target);
    labels.iter().map(|&l| cluster_label[l]).collect()
}

/// Per-label sums of the rows and member counts (labels are `0..=max`).
fn sums_of(data: &[f32], dim: usize, labels: &[usize]) -> (Vec<Vec<f32>>, Vec<usize>) {
    let k = labels.iter().max().map_or(0, |m| m + 1);
    let mut sums = vec![vec![0.0f32; dim]; k];
    let mut counts = vec![0usize; k];
    for (row, &l) in data.chunks_exact(dim).zip(labels) {
        counts[l] += 1;
        sums[l].iter_mut().zip(row).for_each(|(s, x)| *s += x);
    }
    (sums, counts)
}

/// Unit-length mean of each label's rows (a zero vector for a label without members).
fn centroids_of(data: &[f32], dim: usize, labels: &[usize]) -> Vec<Vec<f32>> {
    let (mut sums, _) = sums_of(data, dim, labels);
    for s in &mut sums {
        let norm = s.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
        if norm > 0.0 {
            s.iter_mut().for_each(|x| *x = (*x as f64 / norm) as f32);
        }
    }
    sums
}

/// Index of the centroid most similar to `x` among those `allowed`.
fn nearest(x: &[f32], centroids: &[Vec<f32>], allowed: impl Fn(usize) -> bool) -> usize {
    (0..centroids.len())
        .filter(|&c| allowed(c))
        .max_by(|&a, &b| dot(x, &centroids[a]).total_cmp(&dot(x, &centroids[b])).then(b.cmp(&a)))
        .unwrap_or(0)
}

/// Merges clusters smaller than `min_size` into their nearest big neighbour (average linkage), smallest first,
/// while more than `k_min` clusters remain.
fn absorb_tiny_clusters(data: &[f32], dim: usize, labels: &mut [usize], min_size: usize, k_min: usize) {
    let (mut sums, mut counts) = sums_of(data, dim, labels);
    let mut merged_into: Vec<usize> = (0..counts.len()).collect();
    loop {
        let alive: Vec<usize> = (0..counts.len()).filter(|&c| counts[c] > 0).collect();
        if alive.len() <= k_min.max(1) {
            break;
        }
        let Some(&tiny) = alive.iter().filter(|&&c| counts[c] < min_size).min_by_key(|&&c| (counts[c], c)) else {
            break;
        };
        // Nothing big to absorb into (very few embeddings): leave them as they are.
        if !alive.iter().any(|&c| counts[c] >= min_size) {
            break;
        }
        let similarity = |c: usize| dot(&sums[tiny], &sums[c]) as f64 / (counts[tiny] * counts[c]) as f64;
        let target = alive
            .iter()
            .copied()
            .filter(|&c| counts[c] >= min_size)
            .max_by(|&a, &b| similarity(a).total_cmp(&similarity(b)).then(b.cmp(&a)))
            .expect("a big cluster exists");
        let moved = std::mem::take(&mut sums[tiny]);
        sums[target].iter_mut().zip(&moved).for_each(|(s, x)| *s += x);
        counts[target] += counts[tiny];
        counts[tiny] = 0;
        merged_into[tiny] = target;
    }
    for l in labels.iter_mut() {
        while merged_into[*l] != *l {
            *l = merged_into[*l];
        }
    }
}

/// Relabels so that labels are `0..k` in order of first appearance.
fn renumber(labels: &[usize]) -> Vec<usize> {
    let mut map = std::collections::HashMap::new();
    labels
        .iter()
        .map(|&l| {
            let next = map.len();
            *map.entry(l).or_insert(next)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;
    use std::time::Instant;

    /// `sizes[s]` embeddings of speaker `s`: a random unit direction in `dim` dimensions plus Gaussian noise of
    /// total norm ≈ `noise`, shuffled in time. Returns the embeddings and the true speaker of each.
    fn synthetic(sizes: &[usize], dim: usize, noise: f64, seed: u64) -> (Vec<Vec<f32>>, Vec<usize>) {
        let mut rng = SplitMix64::new(seed);
        let centres: Vec<Vec<f64>> = sizes
            .iter()
            .map(|_| {
                let v: Vec<f64> = (0..dim).map(|_| rng.normal()).collect();
                let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                v.into_iter().map(|x| x / norm).collect()
            })
            .collect();
        let mut truth: Vec<usize> = sizes.iter().enumerate().flat_map(|(s, &n)| std::iter::repeat_n(s, n)).collect();
        for i in (1..truth.len()).rev() {
            truth.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
        }
        let sigma = noise / (dim as f64).sqrt();
        let embeddings =
            truth.iter().map(|&s| centres[s].iter().map(|c| (c + sigma * rng.normal()) as f32).collect()).collect();
        (embeddings, truth)
    }

    /// Fraction of points whose label agrees with the truth under the best one-to-one label mapping (greedy
    /// majority is enough for these clean cases).
    fn purity(labels: &[usize], truth: &[usize]) -> f64 {
        let k = labels.iter().max().map_or(0, |m| m + 1);
        let t = truth.iter().max().map_or(0, |m| m + 1);
        let mut counts = vec![vec![0usize; t]; k];
        for (&l, &s) in labels.iter().zip(truth) {
            counts[l][s] += 1;
        }
        counts.iter().map(|row| row.iter().max().copied().unwrap_or(0)).sum::<usize>() as f64 / labels.len() as f64
    }

    fn opts(method: Method) -> ClusterOptions {
        ClusterOptions { method, ..ClusterOptions::default() }
    }

    #[test]
    fn finds_the_number_of_speakers_for_one_to_six_with_every_method() {
        for method in [Method::Agglomerative, Method::Spectral, Method::Auto] {
            for k in 1..=6 {
                // Unequal speaker shares, like real conversations.
                let sizes: Vec<usize> = (0..k).map(|s| 60 + 37 * s).collect();
                let (emb, truth) = synthetic(&sizes, 256, 0.8, 100 + k as u64);
                let c = cluster(&emb, &opts(method)).unwrap();
                assert_eq!(c.num_speakers(), k, "{method:?} with {k} speakers");
                assert!(purity(&c.labels, &truth) > 0.99, "{method:?} k={k} purity {}", purity(&c.labels, &truth));
            }
        }
    }

    #[test]
    fn similar_voices_are_still_separated() {
        // Speaker directions share a common component: centres have cosine 0.5 with each other.
        let dim = 256;
        let mut rng = SplitMix64::new(81);
        let unit = |rng: &mut SplitMix64| -> Vec<f64> {
            let v: Vec<f64> = (0..dim).map(|_| rng.normal()).collect();
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            v.into_iter().map(|x| x / norm).collect()
        };
        let common = unit(&mut rng);
        let sizes = [120, 90, 60, 150];
        let centres: Vec<Vec<f64>> = sizes
            .iter()
            .map(|_| {
                let own = unit(&mut rng);
                common.iter().zip(&own).map(|(c, o)| 0.5f64.sqrt() * c + 0.5f64.sqrt() * o).collect()
            })
            .collect();
        let sigma = 0.6 / (dim as f64).sqrt();
        let mut emb = Vec::new();
        let mut truth = Vec::new();
        for (s, &n) in sizes.iter().enumerate() {
            for _ in 0..n {
                emb.push(centres[s].iter().map(|c| (c + sigma * rng.normal()) as f32).collect());
                truth.push(s);
            }
        }
        for method in [Method::Agglomerative, Method::Spectral] {
            let c = cluster(&emb, &opts(method)).unwrap();
            assert_eq!(c.num_speakers(), 4, "{method:?}");
            assert!(purity(&c.labels, &truth) > 0.99, "{method:?}");
        }
    }

    #[test]
    fn a_single_noisy_speaker_is_never_split() {
        for method in [Method::Agglomerative, Method::Spectral, Method::Auto] {
            // Within-speaker average cosine distance ≈ noise² / (1 + noise²): 0.39 to 0.45, below the threshold 0.5.
            for (n, noise, seed) in [(500, 0.8, 1), (2000, 0.9, 2), (60, 0.9, 3), (5, 0.8, 4)] {
                let (emb, _) = synthetic(&[n], 256, noise, seed);
                let c = cluster(&emb, &opts(method)).unwrap();
                assert_eq!(c.num_speakers(), 1, "{method:?} split one speaker (n={n}, noise={noise})");
                assert!(c.labels.iter().all(|&l| l == 0));
            }
        }
    }

    #[test]
    fn a_single_speaker_with_two_recording_conditions_is_not_split() {
        // Same voice direction, but half the windows carry an extra "channel" component: the two halves are
        // distinguishable (spectral's graph sees two groups) yet well within the same-speaker threshold.
        let (mut emb, _) = synthetic(&[400], 256, 0.7, 9);
        let mut rng = SplitMix64::new(10);
        let channel: Vec<f32> = (0..256).map(|_| (rng.normal() / 16.0 * 0.5) as f32).collect();
        for e in emb.iter_mut().step_by(2) {
            e.iter_mut().zip(&channel).for_each(|(x, c)| *x += c);
        }
        for method in [Method::Agglomerative, Method::Spectral] {
            assert_eq!(cluster(&emb, &opts(method)).unwrap().num_speakers(), 1, "{method:?}");
        }
    }

    #[test]
    fn num_speakers_forces_the_count() {
        let (emb, truth) = synthetic(&[80, 80, 80, 80], 256, 0.8, 21);
        for method in [Method::Agglomerative, Method::Spectral] {
            let c = cluster(&emb, &ClusterOptions { num_speakers: Some(4), ..opts(method) }).unwrap();
            assert_eq!(c.num_speakers(), 4);
            assert!(purity(&c.labels, &truth) > 0.99);
            let c = cluster(&emb, &ClusterOptions { num_speakers: Some(2), ..opts(method) }).unwrap();
            assert_eq!(c.num_speakers(), 2, "{method:?} forced down");
            let c = cluster(&emb, &ClusterOptions { num_speakers: Some(6), ..opts(method) }).unwrap();
            assert_eq!(c.num_speakers(), 6, "{method:?} forced up");
            // More speakers than embeddings: as many as there are.
            let few = &emb[..3];
            let c = cluster(few, &ClusterOptions { num_speakers: Some(5), ..opts(method) }).unwrap();
            assert_eq!(c.num_speakers(), 3);
        }
        // A single speaker forced into two: both halves non-empty.
        let (one, _) = synthetic(&[100], 256, 0.8, 22);
        let c = cluster(&one, &ClusterOptions { num_speakers: Some(2), ..opts(Method::Agglomerative) }).unwrap();
        assert_eq!(c.num_speakers(), 2);
    }

    #[test]
    fn min_and_max_speakers_bound_the_estimate() {
        let (emb, _) = synthetic(&[70, 70, 70, 70, 70], 256, 0.8, 31);
        for method in [Method::Agglomerative, Method::Spectral] {
            let c = cluster(&emb, &ClusterOptions { max_speakers: Some(3), ..opts(method) }).unwrap();
            assert_eq!(c.num_speakers(), 3, "{method:?} max");
            let c = cluster(&emb, &ClusterOptions { min_speakers: Some(2), max_speakers: Some(8), ..opts(method) });
            assert_eq!(c.unwrap().num_speakers(), 5, "{method:?} inside bounds");
        }
        let (two, _) = synthetic(&[100, 100], 256, 0.8, 32);
        for method in [Method::Agglomerative, Method::Spectral] {
            let c = cluster(&two, &ClusterOptions { min_speakers: Some(4), ..opts(method) }).unwrap();
            assert_eq!(c.num_speakers(), 4, "{method:?} min");
        }
    }

    #[test]
    fn tiny_clusters_are_absorbed_but_real_small_speakers_kept() {
        // Two speakers of 150 plus three stray windows from two other directions.
        let (mut emb, _) = synthetic(&[150, 150], 256, 0.8, 41);
        let (strays, _) = synthetic(&[2, 1], 256, 0.1, 42);
        emb.extend(strays);
        for method in [Method::Agglomerative, Method::Spectral] {
            let c = cluster(&emb, &opts(method)).unwrap();
            assert_eq!(c.num_speakers(), 2, "{method:?}");
        }
        // With min_cluster_size 1 agglomerative clustering keeps the strays as speakers of their own; with 2 only
        // the pair survives. (Spectral
        // clustering cannot isolate single outliers: they are weakly linked to everyone, not a component.)
        let c = cluster(&emb, &ClusterOptions { min_cluster_size: 1, ..opts(Method::Agglomerative) }).unwrap();
        assert_eq!(c.num_speakers(), 4, "keeps strays");
        let c = cluster(
            &emb,
            &ClusterOptions { min_cluster_size: 2, min_cluster_fraction: 0.0, ..opts(Method::Agglomerative) },
        );
        assert_eq!(c.unwrap().num_speakers(), 3, "keeps the pair");
        // A fraction threshold removes a real but small speaker (10 of 310), unlike the defaults.
        let (emb, _) = synthetic(&[150, 150, 10], 256, 0.8, 43);
        assert_eq!(cluster(&emb, &opts(Method::Agglomerative)).unwrap().num_speakers(), 3);
        let frac = ClusterOptions { min_cluster_fraction: 0.05, ..opts(Method::Agglomerative) };
        assert_eq!(cluster(&emb, &frac).unwrap().num_speakers(), 2);
        // ...but not below min_speakers.
        let c = cluster(&emb, &ClusterOptions { min_speakers: Some(3), ..frac }).unwrap();
        assert_eq!(c.num_speakers(), 3);
    }

    #[test]
    fn labels_in_order_of_first_appearance_and_unit_centroids() {
        let (emb, truth) = synthetic(&[50, 50, 50], 64, 0.8, 51);
        let c = cluster(&emb, &opts(Method::Agglomerative)).unwrap();
        assert_eq!(c.labels[0], 0);
        let mut next = 0;
        for &l in &c.labels {
            assert!(l <= next);
            if l == next {
                next += 1;
            }
        }
        for centroid in &c.centroids {
            let norm: f32 = centroid.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4);
        }
        // Each centroid is close to its members.
        for (e, &l) in emb.iter().zip(&c.labels) {
            let norm = e.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!(dot(e, &c.centroids[l]) / norm > 0.4);
        }
        assert!(purity(&c.labels, &truth) > 0.99);
    }

    #[test]
    fn scale_of_embeddings_does_not_matter() {
        let (emb, _) = synthetic(&[40, 40], 32, 0.8, 61);
        let scaled: Vec<Vec<f32>> =
            emb.iter().enumerate().map(|(i, e)| e.iter().map(|x| x * (1 + i) as f32).collect()).collect();
        let a = cluster(&emb, &opts(Method::Agglomerative)).unwrap();
        let b = cluster(&scaled, &opts(Method::Agglomerative)).unwrap();
        assert_eq!(a.labels, b.labels);
    }

    #[test]
    fn twenty_thousand_windows_cluster_quickly_and_correctly() {
        let sizes = [9000, 6000, 3000, 1500, 500];
        let (emb, truth) = synthetic(&sizes, 256, 0.8, 71);
        for method in [Method::Agglomerative, Method::Spectral] {
            let started = Instant::now();
            let c = cluster(&emb, &opts(method)).unwrap();
            let secs = started.elapsed().as_secs_f64();
            eprintln!("{method:?}: 20k × 256 clustered in {secs:.2} s");
            assert_eq!(c.num_speakers(), 5, "{method:?}");
            assert!(purity(&c.labels, &truth) > 0.99);
            assert!(secs < 30.0, "{method:?} took {secs:.1} s");
        }
        // One speaker over a whole 3-hour file stays one speaker.
        let (emb, _) = synthetic(&[20_000], 256, 0.9, 72);
        for method in [Method::Agglomerative, Method::Spectral] {
            let c = cluster(&emb, &opts(method)).unwrap();
            assert_eq!(c.num_speakers(), 1, "{method:?}");
        }
    }

    #[test]
    fn edge_cases_and_errors() {
        assert_eq!(cluster(&[], &ClusterOptions::default()).unwrap().labels, Vec::<usize>::new());
        let one = cluster(&[vec![0.0, 3.0]], &ClusterOptions::default()).unwrap();
        assert_eq!(one.labels, vec![0]);
        assert_eq!(one.centroids, vec![vec![0.0, 1.0]]);
        let two = cluster(&[vec![1.0, 0.0], vec![0.0, 1.0]], &ClusterOptions::default()).unwrap();
        assert_eq!(two.labels, vec![0, 1]);

        let err = cluster(&[vec![1.0, 0.0], vec![1.0]], &ClusterOptions::default()).unwrap_err();
        assert_eq!(err, ClusterError::DimensionMismatch { index: 1, found: 1, expected: 2 });
        let err = cluster(&[vec![1.0], vec![f32::NAN]], &ClusterOptions::default()).unwrap_err();
        assert_eq!(err, ClusterError::NonFinite { index: 1 });
        let err = cluster(&[vec![1.0], vec![0.0]], &ClusterOptions::default()).unwrap_err();
        assert_eq!(err, ClusterError::ZeroNorm { index: 1 });
        assert_eq!(cluster(&[vec![]], &ClusterOptions::default()).unwrap_err(), ClusterError::EmptyEmbedding);
        let bad = ClusterOptions { min_speakers: Some(3), max_speakers: Some(2), ..ClusterOptions::default() };
        assert!(matches!(cluster(&[vec![1.0]], &bad), Err(ClusterError::InvalidOptions(_))));
        let bad = ClusterOptions { num_speakers: Some(0), ..ClusterOptions::default() };
        assert!(matches!(cluster(&[vec![1.0]], &bad), Err(ClusterError::InvalidOptions(_))));
        let bad = ClusterOptions { threshold: f32::NAN, ..ClusterOptions::default() };
        assert!(matches!(cluster(&[vec![1.0]], &bad), Err(ClusterError::InvalidOptions(_))));
    }

    #[test]
    fn subsample_is_even_and_bounded() {
        assert_eq!(subsample(5, 10), vec![0, 1, 2, 3, 4]);
        assert_eq!(subsample(10, 4), vec![0, 2, 5, 7]);
        assert_eq!(subsample(20_000, 2500).len(), 2500);
    }

    #[test]
    fn options_deserialize_with_defaults() {
        let o: ClusterOptions = serde_json::from_str(r#"{"method": "spectral", "num_speakers": 2}"#).unwrap();
        assert_eq!(o.method, Method::Spectral);
        assert_eq!(o.num_speakers, Some(2));
        assert_eq!(o.threshold, ClusterOptions::default().threshold);
        assert!(serde_json::from_str::<ClusterOptions>(r#"{"method": "kmeans"}"#).is_err());
    }
}
