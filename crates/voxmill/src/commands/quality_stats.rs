//! The quality part of `voxmill stats` (and the run summary's quality line): how many clips are accepted and
//! rejected, for which reasons, and how every measure is distributed over the measured clips.

use std::collections::BTreeMap;
use std::path::Path;

use voxmill_project::{ClipStatus, Verdict};

/// Verdict counts and the reasons behind the rejections.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VerdictCounts {
    pub accepted: usize,
    pub rejected: usize,
    /// Clips the qualify stage has not measured yet.
    pub unmeasured: usize,
    /// Clips whose verdict is a manual decision.
    pub by_hand: usize,
    /// Rejected clips per measure named in their reasons (a clip failing two gates counts under both).
    pub reasons: BTreeMap<String, usize>,
}

impl VerdictCounts {
    /// Counts the verdicts of `statuses`.
    pub fn of(statuses: &[ClipStatus]) -> VerdictCounts {
        let mut c = VerdictCounts::default();
        for s in statuses {
            match s.verdict() {
                Some(Verdict::Accepted) => c.accepted += 1,
                Some(Verdict::Rejected) => c.rejected += 1,
                None => c.unmeasured += 1,
            }
            if s.manual().is_some() {
                c.by_hand += 1;
            } else if s.verdict() == Some(Verdict::Rejected) {
                let mut names: Vec<String> =
                    s.reasons().iter().filter_map(|r| r.split(' ').next()).map(str::to_string).collect();
                names.dedup();
                for name in names {
                    *c.reasons.entry(name).or_default() += 1;
                }
            }
        }
        c
    }

    /// Clips with a verdict.
    pub fn measured(&self) -> usize {
        self.accepted + self.rejected
    }

    /// One line for people: counts, the commonest reasons and where to look.
    pub fn line(&self, project: &Path) -> String {
        let mut reasons: Vec<(&String, &usize)> = self.reasons.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let reasons: Vec<String> = reasons.iter().map(|(r, n)| format!("{r} {n}")).collect();
        let mut line = format!("{} accepted, {} rejected", self.accepted, self.rejected);
        if !reasons.is_empty() {
            line.push_str(&format!(" ({})", reasons.join(", ")));
        }
        if self.unmeasured > 0 {
            line.push_str(&format!(", {} not measured yet", self.unmeasured));
        }
        if self.by_hand > 0 {
            line.push_str(&format!(", {} decided by hand", self.by_hand));
        }
        if self.rejected > 0 {
            line.push_str(&format!("; `voxmill review {} --verdict rejected` lists why", project.display()));
        }
        line
    }
}

/// The distribution of one measure over the measured clips.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Distribution {
    pub clips: usize,
    pub min: f64,
    pub p10: f64,
    pub median: f64,
    pub p90: f64,
    pub max: f64,
    pub mean: f64,
}

/// Every numeric measure's distribution, in the order `review` lists the measures (measures no clip has are
/// left out).
pub fn distributions(statuses: &[ClipStatus]) -> Vec<(&'static str, Distribution)> {
    let measured: Vec<_> = statuses.iter().filter_map(|s| s.quality.as_ref()).collect();
    let Some(first) = measured.first() else { return Vec::new() };
    let names: Vec<&'static str> = first.measures.numeric().iter().map(|(n, _)| *n).collect();
    names
        .into_iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let mut values: Vec<f64> = measured.iter().filter_map(|q| q.measures.numeric()[i].1).collect();
            if values.is_empty() {
                return None;
            }
            values.sort_by(f64::total_cmp);
            let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            Some((
                name,
                Distribution {
                    clips: values.len(),
                    min: values[0],
                    p10: at(0.1),
                    median: at(0.5),
                    p90: at(0.9),
                    max: values[values.len() - 1],
                    mean,
                },
            ))
        })
        .collect()
}

/// Mean DNSMOS SIG, BAK and OVRL before and after enhancement, over the clips scored both ways (`None` when
/// enhancement or DNSMOS was off).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnhancementEffect {
    pub clips: usize,
    /// `[sig, bak, ovrl]` before and after.
    pub before: [f64; 3],
    pub after: [f64; 3],
}

impl EnhancementEffect {
    /// The effect over `statuses`.
    pub fn of(statuses: &[ClipStatus]) -> Option<EnhancementEffect> {
        let pairs: Vec<([f64; 3], [f64; 3])> = statuses
            .iter()
            .filter_map(|s| s.quality.as_ref())
            .filter_map(|q| {
                let m = &q.measures;
                Some((
                    [m.dnsmos_sig_before?, m.dnsmos_bak_before?, m.dnsmos_ovrl_before?],
                    [m.dnsmos_sig_after?, m.dnsmos_bak_after?, m.dnsmos_ovrl_after?],
                ))
            })
            .collect();
        if pairs.is_empty() {
            return None;
        }
        let n = pairs.len() as f64;
        let (mut before, mut after) = ([0.0; 3], [0.0; 3]);
        for (b, a) in &pairs {
            for i in 0..3 {
                before[i] += b[i] / n;
                after[i] += a[i] / n;
            }
        }
        Some(EnhancementEffect { clips: pairs.len(), before, after })
    }

    /// `SIG 2.91 -> 3.20, BAK 2.10 -> 3.95, OVRL 2.30 -> 2.88 (mean of 41 clips)`.
    pub fn line(&self) -> String {
        let parts: Vec<String> = ["SIG", "BAK", "OVRL"]
            .iter()
            .enumerate()
            .map(|(i, name)| format!("{name} {:.2} -> {:.2}", self.before[i], self.after[i]))
            .collect();
        format!("{} (mean of {} clips)", parts.join(", "), self.clips)
    }
}

/// The quality section of `voxmill stats --json`.
pub fn json(statuses: &[ClipStatus]) -> serde_json::Value {
    let c = VerdictCounts::of(statuses);
    let measures: serde_json::Map<String, serde_json::Value> = distributions(statuses)
        .into_iter()
        .map(|(name, d)| {
            (
                name.to_string(),
                serde_json::json!({"clips": d.clips, "min": d.min, "p10": d.p10, "median": d.median, "p90": d.p90,
                    "max": d.max, "mean": d.mean}),
            )
        })
        .collect();
    let enhancement = EnhancementEffect::of(statuses).map(|e| {
        let side = |v: [f64; 3]| serde_json::json!({"dnsmos_sig": v[0], "dnsmos_bak": v[1], "dnsmos_ovrl": v[2]});
        serde_json::json!({"clips": e.clips, "before": side(e.before), "after": side(e.after)})
    });
    serde_json::json!({"accepted": c.accepted, "rejected": c.rejected, "unmeasured": c.unmeasured,
        "by_hand": c.by_hand, "rejected_for": c.reasons, "measures": measures, "enhancement": enhancement})
}

/// The quality section of `voxmill stats`, for people.
pub fn print(statuses: &[ClipStatus], project: &Path) {
    let c = VerdictCounts::of(statuses);
    if c.measured() == 0 && c.unmeasured == 0 {
        return;
    }
    println!();
    println!("Quality: {}", c.line(project));
    if let Some(e) = EnhancementEffect::of(statuses) {
        println!("DNSMOS before -> after enhancement: {}", e.line());
    }
    let rows = distributions(statuses);
    if rows.is_empty() {
        return;
    }
    println!("  {:<22} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}", "MEASURE", "CLIPS", "MIN", "P10", "MEDIAN", "P90", "MAX");
    for (name, d) in rows {
        let largest = d.max.abs().max(d.min.abs());
        let decimals = if largest >= 100.0 {
            0
        } else if largest >= 10.0 {
            1
        } else {
            3
        };
        println!(
            "  {name:<22} {:>6} {:>9.decimals$} {:>9.decimals$} {:>9.decimals$} {:>9.decimals$} {:>9.decimals$}",
            d.clips, d.min, d.p10, d.median, d.p90, d.max
        );
    }
}
