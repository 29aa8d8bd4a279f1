//! Project-wide speakers: the identity every recording's local speakers are matched to, and the edits people make
//! to it (rename, merge, unmerge, moving a clip). A project speaker's voice is the duration-weighted mean of the
//! local speakers assigned to it, computed from the stored rows, so re-running one recording never lets its old
//! voice linger in a centroid.
//!
//! Clip files live under `clips/<speaker label>/`. Edits that move files are journaled: one transaction changes the
//! catalog and records every move in `file_moves`; the moves are then done and ticked off. [`Catalog::finish_file_moves`]
//! completes a journal left by a killed process, so the project is seen in the old state or the new, never a mix.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::catalog::{blob_embedding, now};
use crate::{Catalog, Layout, ProjectError};

/// How a recording's speaker was given its project speaker.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeakerAssignment {
    /// The recording's own speaker number.
    pub local: u32,
    pub speaker_id: i64,
    /// The project speaker's label (`spk001`), also its clip folder.
    pub label: String,
    /// Cosine similarity to the project speaker it joined; `None` when it was enrolled as a new speaker.
    pub similarity: Option<f32>,
}

/// A project speaker with its totals, for `voxmill speakers list` and `voxmill stats`.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeakerSummary {
    pub id: i64,
    pub label: String,
    pub name: String,
    pub clips: usize,
    /// Total duration of its clips (seconds).
    pub clip_secs: f64,
    /// Total speech of its turns in all recordings (seconds).
    pub speech_secs: f64,
    /// Names of the recordings it speaks in.
    pub recordings: Vec<String>,
    /// Labels of the speakers merged into it.
    pub merged: Vec<String>,
}

/// One clip that changed speaker, for the commands that report what they did.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipMove {
    pub clip: String,
    pub from: String,
    pub to: String,
}

/// What `speakers recheck` needs of one clip.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipForRecheck {
    pub recording_id: i64,
    pub name: String,
    pub start: f64,
    pub end: f64,
    pub speaker: String,
    pub flag: Option<String>,
}

/// Cosine similarity of two vectors (they need not be normalised).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        dot += f64::from(*x) * f64::from(*y);
        na += f64::from(*x) * f64::from(*x);
        nb += f64::from(*y) * f64::from(*y);
    }
    if na == 0.0 || nb == 0.0 { 0.0 } else { (dot / (na.sqrt() * nb.sqrt())) as f32 }
}

fn normalise(mut v: Vec<f64>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
    v.into_iter().map(|x| x as f32).collect()
}

impl Catalog {
    /// The project folder as a command-line argument, for messages that say what to run.
    fn project_arg(&self) -> String {
        let root = self.path.parent().unwrap_or(Path::new("."));
        let shown = root.display().to_string();
        if shown.contains(char::is_whitespace) { format!("'{shown}'") } else { shown }
    }

    /// Matches a recording's local speakers (from its diarization) to project speakers, enrolling the ones that
    /// match nobody, in one transaction. Each project speaker takes at most one local speaker of a recording (two
    /// voices the diarization told apart stay apart). `key` names the settings used: when the recording already
    /// has assignments made with the same key (a run killed after this committed), they are kept as they are.
    pub fn assign_speakers(
        &self,
        recording_id: i64,
        match_threshold: f32,
        key: &str,
    ) -> Result<Vec<SpeakerAssignment>, ProjectError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let result = assign_in(&tx, recording_id, match_threshold, key).and_then(|r| tx.commit().map(|_| r));
        result.map_err(|e| self.err(e))
    }

    /// Each local speaker of a recording with its project speaker (after merges).
    pub fn recording_speakers(&self, recording_id: i64) -> Result<HashMap<u32, (i64, String)>, ProjectError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT m.speaker, s.id, s.label FROM speaker_members m JOIN speakers s ON s.id = m.speaker_id
                 WHERE m.recording_id = ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([recording_id], |r| Ok((r.get::<_, u32>(0)?, (r.get::<_, i64>(1)?, r.get::<_, String>(2)?))))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Voice centroids of every active project speaker, by label.
    pub fn speaker_centroids(&self) -> Result<BTreeMap<String, Vec<f32>>, ProjectError> {
        let sums = centroid_sums(&self.conn, None).map_err(|e| self.err(e))?;
        let labels = labels(&self.conn).map_err(|e| self.err(e))?;
        Ok(sums.into_iter().filter_map(|(id, v)| labels.get(&id).map(|l| (l.clone(), normalise(v)))).collect())
    }

    /// The active project speakers with their totals, in label order.
    pub fn speaker_summaries(&self) -> Result<Vec<SpeakerSummary>, ProjectError> {
        let q = |e| self.err(e);
        let mut stmt = self
            .conn
            .prepare("SELECT id, label, name FROM speakers WHERE merged_into IS NULL ORDER BY id")
            .map_err(q)?;
        let speakers: Vec<(i64, String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(q)?
            .collect::<Result<_, _>>()
            .map_err(q)?;
        let mut out = Vec::new();
        for (id, label, name) in speakers {
            let (clips, clip_secs): (i64, f64) = self
                .conn
                .query_row(
                    "SELECT COUNT(*), COALESCE(SUM(end - start), 0) FROM clips WHERE speaker = ?1",
                    [&label],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(q)?;
            let speech_secs: f64 = self
                .conn
                .query_row(
                    "SELECT COALESCE(SUM(l.seconds), 0) FROM speaker_members m
                     JOIN local_speakers l ON l.recording_id = m.recording_id AND l.speaker = m.speaker
                     WHERE m.speaker_id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .map_err(q)?;
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT DISTINCT r.name FROM speaker_members m JOIN recordings r ON r.id = m.recording_id
                     WHERE m.speaker_id = ?1 ORDER BY r.id",
                )
                .map_err(q)?;
            let recordings =
                stmt.query_map([id], |r| r.get(0)).map_err(q)?.collect::<Result<Vec<String>, _>>().map_err(q)?;
            let mut stmt =
                self.conn.prepare_cached("SELECT label FROM speakers WHERE merged_into = ?1 ORDER BY id").map_err(q)?;
            let merged =
                stmt.query_map([id], |r| r.get(0)).map_err(q)?.collect::<Result<Vec<String>, _>>().map_err(q)?;
            out.push(SpeakerSummary {
                id,
                label,
                name,
                clips: clips as usize,
                clip_secs,
                speech_secs,
                recordings,
                merged,
            });
        }
        Ok(out)
    }

    /// Finds a speaker by label or name; `active` refuses one that was merged away.
    pub fn find_speaker(&self, who: &str, active: bool) -> Result<(i64, String, String), ProjectError> {
        let found: Option<(i64, String, String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT s.id, s.label, s.name, t.label FROM speakers s LEFT JOIN speakers t ON t.id = s.merged_into
                 WHERE s.label = ?1 OR s.name = ?1",
                [who],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        match found {
            None => Err(ProjectError::Speaker(format!(
                "no speaker `{who}` in this project; `voxmill speakers {} list` shows the speakers",
                self.project_arg()
            ))),
            Some((_, label, _, Some(into))) if active => Err(ProjectError::Speaker(format!(
                "speaker {label} was merged into {into}; use {into}, or `voxmill speakers {} unmerge {label}`",
                self.project_arg()
            ))),
            Some((id, label, name, _)) => Ok((id, label, name)),
        }
    }

    /// Gives a speaker a display name (used by exports); labels and clip folders stay as they are.
    pub fn rename_speaker(&self, who: &str, name: &str) -> Result<(String, String), ProjectError> {
        let name = name.trim();
        if name.is_empty() || name.contains(['|', '\n', '\t']) || name.len() > 200 {
            return Err(ProjectError::Speaker(format!(
                "`{name}` cannot be a speaker name: it must be 1-200 characters without `|`, tabs or line breaks"
            )));
        }
        let (id, label, old) = self.find_speaker(who, true)?;
        let taken: Option<String> = self
            .conn
            .query_row(
                "SELECT label FROM speakers WHERE (name = ?1 OR label = ?1) AND id != ?2",
                params![name, id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if let Some(other) = taken {
            return Err(ProjectError::Speaker(format!(
                "the name `{name}` is already used by speaker {other}; merge the two with `voxmill speakers {} merge {other} {label}` if they are one person",
                self.project_arg()
            )));
        }
        self.conn.execute("UPDATE speakers SET name = ?1 WHERE id = ?2", params![name, id]).map_err(|e| self.err(e))?;
        Ok((label, old))
    }

    /// Merges `others` into `into`: their recordings' speakers and clips become `into`'s, their clip files move to
    /// `into`'s folder. One transaction plus a journal of file moves, completed before returning.
    pub fn merge_speakers(
        &self,
        layout: &Layout,
        into: &str,
        others: &[String],
    ) -> Result<Vec<ClipMove>, ProjectError> {
        let (into_id, into_label, _) = self.find_speaker(into, true)?;
        let mut ids = Vec::new();
        for o in others {
            let (id, label, _) = self.find_speaker(o, true)?;
            if id == into_id {
                return Err(ProjectError::Speaker(format!("cannot merge speaker {label} into itself")));
            }
            if !ids.iter().any(|(i, _)| *i == id) {
                ids.push((id, label));
            }
        }
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let mut moves = Vec::new();
        for (id, label) in &ids {
            tx.execute(
                "UPDATE speaker_members SET merged_from = COALESCE(merged_from, speaker_id), speaker_id = ?1
                 WHERE speaker_id = ?2",
                params![into_id, id],
            )
            .map_err(|e| self.err(e))?;
            tx.execute("UPDATE speakers SET merged_into = ?1 WHERE id = ?2", params![into_id, id])
                .map_err(|e| self.err(e))?;
            tx.execute("UPDATE speakers SET merged_into = ?1 WHERE merged_into = ?2", params![into_id, id])
                .map_err(|e| self.err(e))?;
            moves.extend(move_clips(&tx, "speaker = ?1", params![label], &into_label).map_err(|e| self.err(e))?);
        }
        tx.commit().map_err(|e| self.err(e))?;
        self.finish_file_moves(layout)?;
        Ok(moves)
    }

    /// Undoes a merge: the recordings' speakers that were `who` before it was merged go back to it, with their
    /// clips.
    pub fn unmerge_speaker(&self, layout: &Layout, who: &str) -> Result<Vec<ClipMove>, ProjectError> {
        let (id, label, _) = self.find_speaker(who, false)?;
        let into: Option<i64> = self
            .conn
            .query_row("SELECT merged_into FROM speakers WHERE id = ?1", [id], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if into.is_none() {
            return Err(ProjectError::Speaker(format!("speaker {label} is not merged into another speaker")));
        }
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let members: Vec<(i64, u32)> = {
            let mut stmt = tx
                .prepare("SELECT recording_id, speaker FROM speaker_members WHERE merged_from = ?1")
                .map_err(|e| self.err(e))?;
            stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(|e| self.err(e))?
                .collect::<Result<_, _>>()
                .map_err(|e| self.err(e))?
        };
        tx.execute("UPDATE speaker_members SET speaker_id = ?1, merged_from = NULL WHERE merged_from = ?1", [id])
            .map_err(|e| self.err(e))?;
        tx.execute("UPDATE speakers SET merged_into = NULL WHERE id = ?1", [id]).map_err(|e| self.err(e))?;
        let mut moves = Vec::new();
        for (rec, local) in members {
            // The clips of that recording that lie in that local speaker's turns.
            moves.extend(
                move_clips(
                    &tx,
                    "recording_id = ?1 AND EXISTS (SELECT 1 FROM turns t WHERE t.recording_id = clips.recording_id
                         AND t.speaker = ?2 AND t.start < clips.end AND t.end > clips.start
                         AND MIN(t.end, clips.end) - MAX(t.start, clips.start) >= (clips.end - clips.start) / 2)",
                    params![rec, local],
                    &label,
                )
                .map_err(|e| self.err(e))?,
            );
        }
        tx.commit().map_err(|e| self.err(e))?;
        self.finish_file_moves(layout)?;
        Ok(moves)
    }

    /// Every clip with what `speakers recheck` needs to score it.
    pub fn clips_for_recheck(&self) -> Result<Vec<ClipForRecheck>, ProjectError> {
        let mut stmt = self
            .conn
            .prepare("SELECT recording_id, name, start, end, speaker, flag FROM clips ORDER BY recording_id, idx")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ClipForRecheck {
                    recording_id: r.get(0)?,
                    name: r.get(1)?,
                    start: r.get(2)?,
                    end: r.get(3)?,
                    speaker: r.get(4)?,
                    flag: r.get(5)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Applies the result of a recheck in one transaction: flags set or cleared, clips moved to another speaker.
    pub fn apply_recheck(
        &self,
        layout: &Layout,
        flags: &[(String, Option<String>)],
        moves: &[(String, String)],
    ) -> Result<Vec<ClipMove>, ProjectError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        for (clip, flag) in flags {
            tx.execute("UPDATE clips SET flag = ?1 WHERE name = ?2", params![flag, clip]).map_err(|e| self.err(e))?;
        }
        let mut done = Vec::new();
        for (clip, to) in moves {
            done.extend(move_clips(&tx, "name = ?1", params![clip], to).map_err(|e| self.err(e))?);
        }
        tx.commit().map_err(|e| self.err(e))?;
        self.finish_file_moves(layout)?;
        Ok(done)
    }

    /// Does the clip file moves a journal lists (the catalog already points at their new places), then clears it.
    /// Safe to run again after being killed half-way: a move whose file is already in place is skipped.
    pub fn finish_file_moves(&self, layout: &Layout) -> Result<usize, ProjectError> {
        let moves: Vec<(i64, String, String)> = {
            let mut stmt = self
                .conn
                .prepare("SELECT idx, from_path, to_path FROM file_moves ORDER BY idx")
                .map_err(|e| self.err(e))?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(|e| self.err(e))?
                .collect::<Result<_, _>>()
                .map_err(|e| self.err(e))?
        };
        // Folders whose entries changed here (synced), and folders clips left, here or in the killed process that
        // wrote the journal (removed when empty, before the journal goes, so a kill in between still gets them).
        let mut touched = std::collections::BTreeSet::new();
        let mut left = std::collections::BTreeSet::new();
        for (_, from, to) in &moves {
            let (from, to) = (layout.resolve(from), layout.resolve(to));
            if let Some(parent) = from.parent() {
                left.insert(parent.to_path_buf());
            }
            if from.exists() {
                if let Some(parent) = to.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| ProjectError::io(parent, e))?;
                    touched.insert(parent.to_path_buf());
                }
                std::fs::rename(&from, &to).map_err(|e| ProjectError::io(&from, e))?;
                if let Some(parent) = from.parent() {
                    touched.insert(parent.to_path_buf());
                }
            } else if !to.exists() {
                tracing::warn!("clip {} is missing; re-run `voxmill run` to cut it again", to.display());
            }
        }
        for dir in &touched {
            crate::atomic::sync_dir(dir)?;
        }
        for dir in &left {
            remove_if_empty(dir);
        }
        self.conn.execute("DELETE FROM file_moves", []).map_err(|e| self.err(e))?;
        Ok(moves.len())
    }
}

fn remove_if_empty(dir: &Path) {
    if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none()) {
        let _ = std::fs::remove_dir(dir);
    }
}

/// Points the selected clips at speaker `to` and journals their file moves; returns what moved.
fn move_clips(
    tx: &rusqlite::Connection,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
    to: &str,
) -> rusqlite::Result<Vec<ClipMove>> {
    let clips: Vec<(String, String, String)> = {
        let mut stmt = tx.prepare(&format!(
            "SELECT name, speaker, path FROM clips WHERE {filter} AND speaker != '{}'",
            to.replace('\'', "''")
        ))?;
        stmt.query_map(args, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?
    };
    let mut moves = Vec::new();
    for (name, from, path) in clips {
        let new_path = Layout::clip_relative(to, &name);
        tx.execute("UPDATE clips SET speaker = ?1, path = ?2 WHERE name = ?3", params![to, new_path, name])?;
        tx.execute("INSERT INTO file_moves (from_path, to_path) VALUES (?1, ?2)", params![path, new_path])?;
        moves.push(ClipMove { clip: name, from, to: to.to_string() });
    }
    Ok(moves)
}

/// Duration-weighted sums of local centroids per active project speaker, leaving out one recording if asked.
fn centroid_sums(conn: &rusqlite::Connection, except: Option<i64>) -> rusqlite::Result<HashMap<i64, Vec<f64>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.speaker_id, l.seconds, l.centroid FROM speaker_members m
         JOIN local_speakers l ON l.recording_id = m.recording_id AND l.speaker = m.speaker
         WHERE m.recording_id != ?1",
    )?;
    let mut sums: HashMap<i64, Vec<f64>> = HashMap::new();
    let rows = stmt.query_map([except.unwrap_or(-1)], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?, blob_embedding(&r.get::<_, Vec<u8>>(2)?)))
    })?;
    for row in rows {
        let (id, secs, centroid) = row?;
        let sum = sums.entry(id).or_insert_with(|| vec![0.0; centroid.len()]);
        if sum.len() == centroid.len() {
            sum.iter_mut().zip(&centroid).for_each(|(s, c)| *s += secs.max(1e-3) * f64::from(*c));
        }
    }
    Ok(sums)
}

fn labels(conn: &rusqlite::Connection) -> rusqlite::Result<HashMap<i64, String>> {
    let mut stmt = conn.prepare_cached("SELECT id, label FROM speakers WHERE merged_into IS NULL")?;
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
}

fn assign_in(
    tx: &rusqlite::Connection,
    rec: i64,
    threshold: f32,
    key: &str,
) -> rusqlite::Result<Vec<SpeakerAssignment>> {
    let locals: Vec<(u32, f64, Vec<f32>)> = {
        let mut stmt = tx.prepare(
            "SELECT speaker, seconds, centroid FROM local_speakers WHERE recording_id = ?1 ORDER BY seconds DESC, speaker",
        )?;
        stmt.query_map([rec], |r| Ok((r.get(0)?, r.get(1)?, blob_embedding(&r.get::<_, Vec<u8>>(2)?))))?
            .collect::<Result<_, _>>()?
    };
    let kept: Vec<(u32, i64, String, Option<f32>)> = {
        let mut stmt = tx.prepare(
            "SELECT m.speaker, s.id, s.label, m.similarity FROM speaker_members m JOIN speakers s ON s.id = m.speaker_id
             WHERE m.recording_id = ?1 AND m.assigned_by = ?2",
        )?;
        stmt.query_map(params![rec, key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?
    };
    if !locals.is_empty() && kept.len() == locals.len() {
        let mut out: Vec<SpeakerAssignment> = kept
            .into_iter()
            .map(|(local, speaker_id, label, similarity)| SpeakerAssignment { local, speaker_id, label, similarity })
            .collect();
        out.sort_by_key(|a| a.local);
        return Ok(out);
    }
    tx.execute("DELETE FROM speaker_members WHERE recording_id = ?1", [rec])?;
    // Speakers left with no one (this recording was their only one, diarized anew) and never named are removed.
    tx.execute(
        "DELETE FROM speakers WHERE merged_into IS NULL AND name = label
         AND NOT EXISTS (SELECT 1 FROM speaker_members m WHERE m.speaker_id = speakers.id)
         AND NOT EXISTS (SELECT 1 FROM speakers s WHERE s.merged_into = speakers.id)
         AND NOT EXISTS (SELECT 1 FROM clips c WHERE c.speaker = speakers.label AND c.recording_id != ?1)",
        [rec],
    )?;
    let centroids: Vec<(i64, Vec<f32>)> = {
        let labels = labels(tx)?;
        let mut v: Vec<(i64, Vec<f32>)> = centroid_sums(tx, Some(rec))?
            .into_iter()
            .filter(|(id, _)| labels.contains_key(id))
            .map(|(id, s)| (id, normalise(s)))
            .collect();
        v.sort_by_key(|(id, _)| *id);
        v
    };
    // Greedy one-to-one matching, best pair first.
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    for (li, (_, _, lc)) in locals.iter().enumerate() {
        for (gi, (_, gc)) in centroids.iter().enumerate() {
            let sim = cosine(lc, gc);
            if sim >= threshold {
                pairs.push((sim, li, gi));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut local_to: Vec<Option<(usize, f32)>> = vec![None; locals.len()];
    let mut taken = vec![false; centroids.len()];
    for (sim, li, gi) in pairs {
        if local_to[li].is_none() && !taken[gi] {
            local_to[li] = Some((gi, sim));
            taken[gi] = true;
        }
    }
    let mut out = Vec::new();
    for (li, (local, _, _)) in locals.iter().enumerate() {
        let (speaker_id, similarity) = match local_to[li] {
            Some((gi, sim)) => (centroids[gi].0, Some(sim)),
            None => (enroll(tx)?, None),
        };
        tx.execute(
            "INSERT INTO speaker_members (recording_id, speaker, speaker_id, similarity, assigned_by)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![rec, local, speaker_id, similarity, key],
        )?;
        let label: String = tx.query_row("SELECT label FROM speakers WHERE id = ?1", [speaker_id], |r| r.get(0))?;
        out.push(SpeakerAssignment { local: *local, speaker_id, label, similarity });
    }
    out.sort_by_key(|a| a.local);
    Ok(out)
}

/// A new project speaker, labelled after its id (ids are never reused, so neither are labels).
fn enroll(tx: &rusqlite::Connection) -> rusqlite::Result<i64> {
    let next: i64 =
        tx.query_row("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'speakers'), 0) + 1", [], |r| {
            r.get(0)
        })?;
    let label = format!("spk{next:03}");
    tx.execute(
        "INSERT INTO speakers (id, label, name, created_at) VALUES (?1, ?2, ?2, ?3)",
        params![next, label, now()],
    )?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Diarization, LocalSpeakerRow, NewRecording, StageRows, TurnRow};

    fn recording(c: &Catalog, name: &str) -> i64 {
        c.insert_recording(&NewRecording {
            name: name.into(),
            source_path: format!("/in/{name}.wav"),
            stored_path: format!("/in/{name}.wav"),
            sha256: name.into(),
            size_bytes: 1,
            codec: "pcm".into(),
            container: "wav".into(),
            sample_rate: 16_000,
            channels: 1,
            duration_secs: 60.0,
        })
        .unwrap()
        .id
    }

    fn voice(axis: usize, wobble: f32) -> Vec<f32> {
        let mut v = vec![0.0f32; 8];
        v[axis] = 1.0;
        v[(axis + 1) % 8] = wobble;
        v
    }

    fn diarize(c: &mut Catalog, rec: i64, voices: &[Vec<f32>]) {
        let d = Diarization {
            turns: voices
                .iter()
                .enumerate()
                .map(|(i, _)| TurnRow { start: i as f64 * 10.0, end: i as f64 * 10.0 + 9.0, speaker: i as u32 })
                .collect(),
            speakers: voices
                .iter()
                .enumerate()
                .map(|(i, v)| LocalSpeakerRow { speaker: i as u32, seconds: 9.0, centroid: v.clone(), channel: None })
                .collect(),
            ..Default::default()
        };
        c.record_done(rec, "diarize", "f", "{}", 0.0, &StageRows::Diarization(d)).unwrap();
    }

    #[test]
    fn shared_speakers_are_matched_and_new_ones_enrolled() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Catalog::open(&dir.path().join("voxmill.db")).unwrap();
        let (a, b, d) = (recording(&c, "a"), recording(&c, "b"), recording(&c, "c"));
        diarize(&mut c, a, &[voice(0, 0.0), voice(1, 0.0)]);
        diarize(&mut c, b, &[voice(1, 0.1), voice(2, 0.0)]);
        diarize(&mut c, d, &[voice(0, 0.2), voice(2, 0.1), voice(1, 0.05)]);
        let ra = c.assign_speakers(a, 0.8, "k").unwrap();
        let rb = c.assign_speakers(b, 0.8, "k").unwrap();
        let rd = c.assign_speakers(d, 0.8, "k").unwrap();
        let labels = |r: &[SpeakerAssignment]| r.iter().map(|a| a.label.clone()).collect::<Vec<_>>();
        assert_eq!(labels(&ra), ["spk001", "spk002"]);
        assert_eq!(labels(&rb), ["spk002", "spk003"]);
        assert_eq!(labels(&rd), ["spk001", "spk003", "spk002"]);
        assert_eq!(c.speaker_summaries().unwrap().len(), 3);
        // Same key again: kept as is; a new diarization of a recording replaces its assignment without new labels.
        assert_eq!(c.assign_speakers(b, 0.8, "k").unwrap(), rb);
        diarize(&mut c, b, &[voice(2, 0.0), voice(1, 0.0)]);
        assert_eq!(labels(&c.assign_speakers(b, 0.8, "k").unwrap()), ["spk003", "spk002"]);
    }

    #[test]
    fn one_recording_never_maps_two_voices_to_one_speaker() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Catalog::open(&dir.path().join("voxmill.db")).unwrap();
        let (a, b) = (recording(&c, "a"), recording(&c, "b"));
        diarize(&mut c, a, &[voice(0, 0.0)]);
        diarize(&mut c, b, &[voice(0, 0.1), voice(0, 0.3)]);
        c.assign_speakers(a, 0.8, "k").unwrap();
        let rb = c.assign_speakers(b, 0.8, "k").unwrap();
        assert_eq!(rb[0].label, "spk001");
        assert_eq!(rb[1].label, "spk002");
    }

    #[test]
    fn merge_rename_unmerge() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        let mut c = Catalog::open(&layout.catalog()).unwrap();
        let a = recording(&c, "a");
        diarize(&mut c, a, &[voice(0, 0.0), voice(3, 0.0)]);
        c.assign_speakers(a, 0.8, "k").unwrap();
        let clips: Vec<crate::ClipRow> = [("a-00001", 1.0, 8.0, "spk001"), ("a-00002", 11.0, 18.0, "spk002")]
            .iter()
            .map(|(name, start, end, spk)| crate::ClipRow {
                name: name.to_string(),
                start: *start,
                end: *end,
                text: "x".into(),
                speaker: spk.to_string(),
                path: Layout::clip_relative(spk, name),
                flag: None,
            })
            .collect();
        for clip in &clips {
            let p = layout.resolve(&clip.path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, clip.name.as_bytes()).unwrap();
        }
        c.record_done(a, "segment", "f", "{}", 0.0, &StageRows::Clips { clips, words: crate::WordYield::default() })
            .unwrap();

        c.rename_speaker("spk001", "Alice").unwrap();
        assert!(c.rename_speaker("spk002", "Alice").is_err());
        let moved = c.merge_speakers(&layout, "Alice", &["spk002".into()]).unwrap();
        assert_eq!(moved.len(), 1);
        assert!(dir.path().join("clips/spk001/a-00002.wav").is_file());
        assert!(!dir.path().join("clips/spk002").exists());
        let list = c.speaker_summaries().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].name.as_str(), list[0].clips, list[0].merged.clone()), ("Alice", 2, vec!["spk002".into()]));
        assert!(c.find_speaker("spk002", true).is_err());

        c.unmerge_speaker(&layout, "spk002").unwrap();
        assert!(dir.path().join("clips/spk002/a-00002.wav").is_file());
        assert_eq!(c.speaker_summaries().unwrap().len(), 2);
        assert_eq!(c.recording_speakers(a).unwrap()[&1].1, "spk002");
    }

    #[test]
    fn an_interrupted_journal_is_finished_on_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        let c = Catalog::open(&layout.catalog()).unwrap();
        for (from, to) in [("clips/spk002/x.wav", "clips/spk001/x.wav"), ("clips/spk002/y.wav", "clips/spk001/y.wav")] {
            c.conn.execute("INSERT INTO file_moves (from_path, to_path) VALUES (?1, ?2)", [from, to]).unwrap();
        }
        // x was moved before the kill, y was not.
        std::fs::create_dir_all(dir.path().join("clips/spk001")).unwrap();
        std::fs::create_dir_all(dir.path().join("clips/spk002")).unwrap();
        std::fs::write(dir.path().join("clips/spk001/x.wav"), b"x").unwrap();
        std::fs::write(dir.path().join("clips/spk002/y.wav"), b"y").unwrap();
        assert_eq!(c.finish_file_moves(&layout).unwrap(), 2);
        assert!(dir.path().join("clips/spk001/y.wav").is_file());
        assert!(!dir.path().join("clips/spk002").exists());
        assert_eq!(c.finish_file_moves(&layout).unwrap(), 0);
        // Killed after every file was moved, before the journal was cleared: the emptied folder still goes.
        c.conn
            .execute(
                "INSERT INTO file_moves (from_path, to_path) VALUES ('clips/spk003/z.wav', 'clips/spk001/z.wav')",
                [],
            )
            .unwrap();
        std::fs::create_dir_all(dir.path().join("clips/spk003")).unwrap();
        std::fs::write(dir.path().join("clips/spk001/z.wav"), b"z").unwrap();
        assert_eq!(c.finish_file_moves(&layout).unwrap(), 1);
        assert!(!dir.path().join("clips/spk003").exists());
        assert!(dir.path().join("clips/spk001/z.wav").is_file());
    }
}
