//! The dense linear algebra spectral clustering needs, written out here so the crate stays pure Rust with no
//! BLAS: a few of the largest eigenpairs of a symmetric matrix.
//!
//! Method: Householder reduction to tridiagonal form (`~4/3 n³` flops, the only cubic step), then each wanted
//! eigenvalue by bisection on Sturm sequence counts (`O(n)` per step), then its eigenvector by inverse iteration
//! on the tridiagonal matrix, re-orthogonalised against the vectors already found (so repeated eigenvalues, which
//! a disconnected affinity graph produces, still give an orthonormal basis), and finally mapped back through the
//! Householder reflectors (`O(n²)` per vector). Only the few eigenvectors spectral clustering uses are ever
//! formed, which is what makes a thousand-point affinity matrix cheap.

/// Dot product written so the compiler vectorises it (independent accumulators).
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks_a = a.chunks_exact(8);
    let chunks_b = b.chunks_exact(8);
    let (rest_a, rest_b) = (chunks_a.remainder(), chunks_b.remainder());
    for (x, y) in chunks_a.zip(chunks_b) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f32 = rest_a.iter().zip(rest_b).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

/// `f64` dot product.
fn dot64(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Scales `v` to unit length; returns its original norm (0 leaves it untouched).
fn normalise64(v: &mut [f64]) -> f64 {
    let norm = dot64(v, v).sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    norm
}

/// A symmetric tridiagonal matrix `T = Qᵀ A Q` and the reflectors that make up `Q`.
struct Tridiagonal {
    /// Diagonal, length `n`.
    diag: Vec<f64>,
    /// Off-diagonal, length `n - 1`: `off[i]` couples rows `i` and `i + 1`.
    off: Vec<f64>,
    /// Householder reflectors `H = I - 2 v vᵀ` acting on indices `offset..n`, in the order they were applied.
    reflectors: Vec<(usize, Vec<f64>)>,
}

/// Householder reduction of the symmetric row-major `n × n` matrix `a` (consumed as scratch).
fn tridiagonalize(mut a: Vec<f64>, n: usize) -> Tridiagonal {
    let mut diag = vec![0.0; n];
    let mut off = vec![0.0; n.saturating_sub(1)];
    let mut reflectors = Vec::new();
    let mut p = vec![0.0; n];
    for k in 0..n.saturating_sub(2) {
        diag[k] = a[k * n + k];
        let base = k + 1;
        let m = n - base;
        let mut v: Vec<f64> = (base..n).map(|i| a[i * n + k]).collect();
        let tail: f64 = v[1..].iter().map(|x| x * x).sum();
        if tail == 0.0 {
            // Column already reduced: no reflection needed.
            off[k] = v[0];
            continue;
        }
        let norm = (v[0] * v[0] + tail).sqrt();
        let alpha = if v[0] >= 0.0 { -norm } else { norm };
        v[0] -= alpha;
        normalise64(&mut v);
        // B ← H B H for the trailing block B = a[base.., base..], as B - 2 (v qᵀ + q vᵀ) with q = Bv - (vᵀBv) v.
        let p = &mut p[..m];
        for (i, pi) in p.iter_mut().enumerate() {
            *pi = dot64(&a[(base + i) * n + base..(base + i) * n + n], &v);
        }
        let vbv = dot64(&v, p);
        p.iter_mut().zip(&v).for_each(|(pi, vi)| *pi -= vbv * vi);
        for i in 0..m {
            let (vi, qi) = (v[i], p[i]);
            let row = &mut a[(base + i) * n + base..(base + i) * n + n];
            for ((r, vj), qj) in row.iter_mut().zip(&v).zip(p.iter()) {
                *r -= 2.0 * (vi * qj + qi * vj);
            }
        }
        off[k] = alpha;
        reflectors.push((base, v));
    }
    match n {
        0 => {}
        1 => diag[0] = a[0],
        _ => {
            diag[n - 2] = a[(n - 2) * n + n - 2];
            diag[n - 1] = a[(n - 1) * n + n - 1];
            off[n - 2] = a[(n - 1) * n + n - 2];
        }
    }
    Tridiagonal { diag, off, reflectors }
}

impl Tridiagonal {
    fn len(&self) -> usize {
        self.diag.len()
    }

    /// A bound on the size of every entry, used to scale tolerances.
    fn scale(&self) -> f64 {
        let d = self.diag.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let e = self.off.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        (d + 2.0 * e).max(f64::MIN_POSITIVE)
    }

    /// Number of eigenvalues strictly below `x` (Sturm sequence: the negative pivots of `T - xI = LDLᵀ`).
    fn count_below(&self, x: f64, pivmin: f64) -> usize {
        let mut count = 0;
        let mut q = 1.0;
        for i in 0..self.len() {
            let coupling = if i == 0 { 0.0 } else { self.off[i - 1] * self.off[i - 1] / q };
            q = self.diag[i] - x - coupling;
            if q.abs() < pivmin {
                q = -pivmin;
            }
            if q < 0.0 {
                count += 1;
            }
        }
        count
    }

    /// The `j`-th smallest eigenvalue (0-based), by bisection inside the Gershgorin interval.
    fn eigenvalue(&self, j: usize) -> f64 {
        let n = self.len();
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for i in 0..n {
            let radius =
                if i > 0 { self.off[i - 1].abs() } else { 0.0 } + if i + 1 < n { self.off[i].abs() } else { 0.0 };
            lo = lo.min(self.diag[i] - radius);
            hi = hi.max(self.diag[i] + radius);
        }
        let scale = self.scale();
        let pivmin = f64::MIN_POSITIVE * scale.max(1.0);
        let tol = 4.0 * f64::EPSILON * scale;
        lo -= tol;
        hi += tol;
        for _ in 0..200 {
            if hi - lo <= tol {
                break;
            }
            let mid = 0.5 * (lo + hi);
            if self.count_below(mid, pivmin) > j {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        0.5 * (lo + hi)
    }

    /// Solves `(T - λI) x = b` in place by Gaussian elimination with partial pivoting; pivots smaller than
    /// `tiny` are replaced by `tiny`, which is exactly what inverse iteration wants near an eigenvalue.
    fn shifted_solve(&self, lambda: f64, tiny: f64, b: &mut [f64]) {
        let n = self.len();
        if n == 1 {
            let p = self.diag[0] - lambda;
            b[0] /= if p.abs() < tiny { tiny.copysign(p) } else { p };
            return;
        }
        let mut u0: Vec<f64> = self.diag.iter().map(|d| d - lambda).collect();
        let mut u1 = self.off.clone();
        let mut u2 = vec![0.0; n];
        let sub = &self.off;
        let guard = |x: f64| if x.abs() < tiny { if x < 0.0 { -tiny } else { tiny } } else { x };
        for i in 0..n - 1 {
            if u0[i].abs() >= sub[i].abs() {
                u0[i] = guard(u0[i]);
                let m = sub[i] / u0[i];
                u0[i + 1] -= m * u1[i];
                b[i + 1] -= m * b[i];
            } else {
                // Swap rows i and i + 1, then eliminate.
                let m = u0[i] / sub[i];
                let (old_u0_next, old_u1) = (u0[i + 1], u1[i]);
                u0[i] = sub[i];
                u1[i] = old_u0_next;
                if i + 2 < n {
                    u2[i] = u1[i + 1];
                    u1[i + 1] = -m * u2[i];
                }
                u0[i + 1] = old_u1 - m * old_u0_next;
                b.swap(i, i + 1);
                b[i + 1] -= m * b[i];
            }
        }
        u0[n - 1] = guard(u0[n - 1]);
        b[n - 1] /= u0[n - 1];
        b[n - 2] = (b[n - 2] - u1[n - 2] * b[n - 1]) / u0[n - 2];
        for i in (0..n.saturating_sub(2)).rev() {
            b[i] = (b[i] - u1[i] * b[i + 1] - u2[i] * b[i + 2]) / u0[i];
        }
    }

    /// `Q y`: maps an eigenvector of `T` back to one of the original matrix.
    fn back_transform(&self, y: &mut [f64]) {
        for (offset, v) in self.reflectors.iter().rev() {
            let s = 2.0 * dot64(v, &y[*offset..]);
            y[*offset..].iter_mut().zip(v).for_each(|(yi, vi)| *yi -= s * vi);
        }
    }
}

/// Eigenvalues and eigenvectors of one symmetric matrix, computed on demand after a single reduction.
pub(crate) struct SymmetricEigen {
    t: Tridiagonal,
}

impl SymmetricEigen {
    /// Reduces the symmetric row-major `n × n` matrix `a` (consumed) to tridiagonal form: the cubic step.
    pub(crate) fn new(a: Vec<f64>, n: usize) -> Self {
        assert_eq!(a.len(), n * n, "matrix is not n × n");
        Self { t: tridiagonalize(a, n) }
    }

    /// The `count` largest eigenvalues (at most `n`), in descending order.
    pub(crate) fn largest(&self, count: usize) -> Vec<f64> {
        let n = self.t.len();
        (0..count.min(n)).map(|j| self.t.eigenvalue(n - 1 - j)).collect()
    }

    /// Unit eigenvectors for `values` (eigenvalues from [`Self::largest`]), mutually orthogonal even where values
    /// repeat.
    pub(crate) fn vectors(&self, values: &[f64]) -> Vec<Vec<f64>> {
        let t = &self.t;
        let n = t.len();
        let tiny = f64::EPSILON * t.scale();
        let mut rng = crate::rng::SplitMix64::new(0x005E_ED0F_E16E);
        let mut found: Vec<Vec<f64>> = Vec::with_capacity(values.len());
        for &lambda in values {
            let mut x: Vec<f64> = (0..n).map(|_| rng.next_f64() - 0.5).collect();
            for _ in 0..4 {
                orthogonalise(&mut x, &found);
                if normalise64(&mut x) == 0.0 {
                    x = (0..n).map(|_| rng.next_f64() - 0.5).collect();
                    orthogonalise(&mut x, &found);
                    normalise64(&mut x);
                }
                t.shifted_solve(lambda, tiny, &mut x);
            }
            orthogonalise(&mut x, &found);
            normalise64(&mut x);
            found.push(x);
        }
        for v in &mut found {
            t.back_transform(v);
            normalise64(v);
        }
        found
    }
}

/// Removes from `x` its components along the (orthonormal) `basis`, twice for numerical safety.
fn orthogonalise(x: &mut [f64], basis: &[Vec<f64>]) {
    for _ in 0..2 {
        for b in basis {
            let s = dot64(x, b);
            x.iter_mut().zip(b).for_each(|(xi, bi)| *xi -= s * bi);
        }
    }
}

/// Lloyd's k-means on the rows of `points` (each of length `dim`), deterministic: several k-means++ seedings
/// from a fixed seed plus one farthest-point seeding, keeping the run with the least inertia.
/// Returns a label in `0..k` per point. Every label is used when there are at least `k` distinct points.
pub(crate) fn kmeans(points: &[Vec<f64>], k: usize) -> Vec<usize> {
    let n = points.len();
    if n == 0 || k <= 1 {
        return vec![0; n];
    }
    let k = k.min(n);
    let mut rng = crate::rng::SplitMix64::new(0x0C1A_55E5);
    let mut best: Option<(f64, Vec<usize>)> = None;
    for attempt in 0..6 {
        let seeds = seed_centres(points, k, attempt == 0, &mut rng);
        let (inertia, labels) = lloyd(points, seeds);
        if best.as_ref().is_none_or(|(b, _)| inertia < *b - 1e-12) {
            best = Some((inertia, labels));
        }
    }
    best.map(|(_, l)| l).unwrap_or_default()
}

fn dist2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Initial centres: farthest-point traversal from the first point (`farthest`), else k-means++ sampling.
fn seed_centres(points: &[Vec<f64>], k: usize, farthest: bool, rng: &mut crate::rng::SplitMix64) -> Vec<Vec<f64>> {
    let n = points.len();
    let first = if farthest { 0 } else { (rng.next_u64() % n as u64) as usize };
    let mut centres = vec![points[first].clone()];
    let mut d: Vec<f64> = points.iter().map(|p| dist2(p, &centres[0])).collect();
    while centres.len() < k {
        let total: f64 = d.iter().sum();
        let pick = if total <= 0.0 {
            // Fewer distinct points than clusters: any point will do.
            centres.len() % n
        } else if farthest {
            (0..n).max_by(|&a, &b| d[a].total_cmp(&d[b]).then(b.cmp(&a))).unwrap_or(0)
        } else {
            let mut target = rng.next_f64() * total;
            let mut chosen = n - 1;
            for (i, di) in d.iter().enumerate() {
                target -= di;
                if target < 0.0 {
                    chosen = i;
                    break;
                }
            }
            chosen
        };
        centres.push(points[pick].clone());
        let c = centres.last().expect("just pushed");
        d.iter_mut().zip(points).for_each(|(di, p)| *di = di.min(dist2(p, c)));
    }
    centres
}

/// Lloyd iterations until no label changes; an emptied cluster is re-seeded with the worst-fitting point.
fn lloyd(points: &[Vec<f64>], mut centres: Vec<Vec<f64>>) -> (f64, Vec<usize>) {
    let (n, k, dim) = (points.len(), centres.len(), points[0].len());
    let mut labels = vec![usize::MAX; n];
    for _ in 0..300 {
        let mut changed = false;
        for (p, label) in points.iter().zip(labels.iter_mut()) {
            let best = (0..k).min_by(|&a, &b| dist2(p, &centres[a]).total_cmp(&dist2(p, &centres[b]))).unwrap_or(0);
            changed |= *label != best;
            *label = best;
        }
        let mut sums = vec![vec![0.0; dim]; k];
        let mut counts = vec![0usize; k];
        for (p, &l) in points.iter().zip(&labels) {
            counts[l] += 1;
            sums[l].iter_mut().zip(p).for_each(|(s, x)| *s += x);
        }
        for c in 0..k {
            if counts[c] == 0 {
                let worst = (0..n)
                    .max_by(|&a, &b| {
                        dist2(&points[a], &centres[labels[a]]).total_cmp(&dist2(&points[b], &centres[labels[b]]))
                    })
                    .unwrap_or(0);
                centres[c] = points[worst].clone();
                labels[worst] = c;
                changed = true;
            } else {
                centres[c] = sums[c].iter().map(|s| s / counts[c] as f64).collect();
            }
        }
        if !changed {
            break;
        }
    }
    let inertia = points.iter().zip(&labels).map(|(p, &l)| dist2(p, &centres[l])).sum();
    (inertia, labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    fn random_symmetric(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = SplitMix64::new(seed);
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let x = rng.normal();
                a[i * n + j] = x;
                a[j * n + i] = x;
            }
        }
        a
    }

    fn mat_vec(a: &[f64], n: usize, v: &[f64]) -> Vec<f64> {
        (0..n).map(|i| dot64(&a[i * n..(i + 1) * n], v)).collect()
    }

    #[test]
    fn dot_matches_naive_for_odd_lengths() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..19).map(|i| 1.0 - i as f32).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-3);
    }

    #[test]
    fn all_eigenpairs_of_a_random_matrix_satisfy_av_equals_lambda_v() {
        for n in [1, 2, 3, 7, 40] {
            let a = random_symmetric(n, n as u64);
            let trace: f64 = (0..n).map(|i| a[i * n + i]).sum();
            let eig = SymmetricEigen::new(a.clone(), n);
            let values = eig.largest(n);
            let vectors = eig.vectors(&values);
            assert!((values.iter().sum::<f64>() - trace).abs() < 1e-8 * n as f64, "trace n={n}");
            assert!(values.windows(2).all(|w| w[0] >= w[1]), "descending");
            for (lambda, v) in values.iter().zip(&vectors) {
                let av = mat_vec(&a, n, v);
                let residual: f64 = av.iter().zip(v).map(|(x, y)| (x - lambda * y).powi(2)).sum::<f64>().sqrt();
                assert!(residual < 1e-8, "n={n} λ={lambda} residual {residual}");
            }
            for i in 0..n {
                for j in 0..n {
                    let d = dot64(&vectors[i], &vectors[j]);
                    assert!((d - if i == j { 1.0 } else { 0.0 }).abs() < 1e-8, "orthonormal n={n}");
                }
            }
        }
    }

    #[test]
    fn known_spectrum_of_a_diagonal_and_a_path() {
        let mut a = vec![0.0; 9];
        a[0] = 2.0;
        a[4] = -1.0;
        a[8] = 5.0;
        let values = SymmetricEigen::new(a, 3).largest(3);
        for (got, want) in values.iter().zip([5.0, 2.0, -1.0]) {
            assert!((got - want).abs() < 1e-12);
        }
        // Path graph adjacency on 4 nodes: eigenvalues 2 cos(kπ/5).
        let mut p = vec![0.0; 16];
        for i in 0..3 {
            p[i * 4 + i + 1] = 1.0;
            p[(i + 1) * 4 + i] = 1.0;
        }
        let values = SymmetricEigen::new(p, 4).largest(4);
        for (k, got) in values.iter().enumerate() {
            let want = 2.0 * ((k + 1) as f64 * std::f64::consts::PI / 5.0).cos();
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
    }

    #[test]
    fn repeated_eigenvalues_give_an_orthonormal_basis_of_the_eigenspace() {
        // Block-diagonal matrix of three identical all-ones 4 × 4 blocks: eigenvalue 4 three times.
        let n = 12;
        let mut a = vec![0.0; n * n];
        for b in 0..3 {
            for i in 0..4 {
                for j in 0..4 {
                    a[(4 * b + i) * n + 4 * b + j] = 1.0;
                }
            }
        }
        let eig = SymmetricEigen::new(a.clone(), n);
        let values = eig.largest(4);
        for v in &values[..3] {
            assert!((v - 4.0).abs() < 1e-10);
        }
        assert!(values[3].abs() < 1e-10);
        let vectors = eig.vectors(&values[..3]);
        for (i, v) in vectors.iter().enumerate() {
            let av = mat_vec(&a, n, v);
            assert!(av.iter().zip(v).all(|(x, y)| (x - 4.0 * y).abs() < 1e-8));
            for w in &vectors[..i] {
                assert!(dot64(v, w).abs() < 1e-8);
            }
        }
    }

    #[test]
    fn kmeans_separates_obvious_groups_deterministically() {
        let mut points = Vec::new();
        for (cx, cy) in [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)] {
            for i in 0..10 {
                points.push(vec![cx + (i % 3) as f64 * 0.1, cy + (i / 3) as f64 * 0.1]);
            }
        }
        let labels = kmeans(&points, 3);
        assert_eq!(labels, kmeans(&points, 3));
        for g in 0..3 {
            let first = labels[g * 10];
            assert!(labels[g * 10..g * 10 + 10].iter().all(|&l| l == first));
        }
        let mut distinct = labels.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 3);
    }
}
