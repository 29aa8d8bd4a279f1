//! The model's vocabulary (CTranslate2's `vocabulary.txt`/`.json`): token ids ↔ GPT-2 byte-level BPE strings,
//! and the special tokens Whisper's prompts need.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::AsrError;

/// Whisper's special token ids for one model.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    tokens: Vec<String>,
    /// Bytes of each token (byte-level BPE decoded); empty for special tokens.
    bytes: Vec<Vec<u8>>,
    ids: HashMap<String, usize>,
    pub eot: usize,
    pub sot: usize,
    pub transcribe: Option<usize>,
    pub no_timestamps: usize,
    pub timestamp_begin: usize,
    pub multilingual: bool,
}

/// GPT-2's reversible byte ↔ printable-char table; returns char → byte.
fn unicode_to_byte() -> HashMap<char, u8> {
    let mut map = HashMap::with_capacity(256);
    let mut extra = 0u32;
    for b in 0u32..256 {
        let printable = (33..=126).contains(&b) || (161..=172).contains(&b) || (174..=255).contains(&b);
        let c = if printable {
            char::from_u32(b).expect("latin-1")
        } else {
            extra += 1;
            char::from_u32(255 + extra).expect("valid char")
        };
        map.insert(c, b as u8);
    }
    map
}

impl Vocabulary {
    /// Finds and loads the vocabulary in a CTranslate2 model folder.
    pub fn load(dir: &Path) -> Result<Vocabulary, AsrError> {
        let txt = dir.join("vocabulary.txt");
        let json = dir.join("vocabulary.json");
        let (path, tokens): (PathBuf, Vec<String>) = if txt.is_file() {
            let text = std::fs::read_to_string(&txt)
                .map_err(|e| AsrError::BadVocabulary { path: txt.clone(), reason: e.to_string() })?;
            (txt, text.lines().map(str::to_string).collect())
        } else if json.is_file() {
            let text = std::fs::read_to_string(&json)
                .map_err(|e| AsrError::BadVocabulary { path: json.clone(), reason: e.to_string() })?;
            let tokens: Vec<String> = serde_json::from_str(&text).map_err(|e| AsrError::BadVocabulary {
                path: json.clone(),
                reason: format!("not a JSON list of tokens: {e}"),
            })?;
            (json, tokens)
        } else {
            return Err(AsrError::VocabularyMissing { dir: dir.to_path_buf() });
        };
        Vocabulary::from_tokens(tokens).map_err(|reason| AsrError::BadVocabulary { path, reason })
    }

    pub fn from_tokens(tokens: Vec<String>) -> Result<Vocabulary, String> {
        let ids: HashMap<String, usize> = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i)).collect();
        let need = |t: &str| ids.get(t).copied().ok_or_else(|| format!("special token {t} missing"));
        let eot = need("<|endoftext|>")?;
        let sot = need("<|startoftranscript|>")?;
        let no_timestamps = need("<|notimestamps|>")?;
        let transcribe = ids.get("<|transcribe|>").copied();
        // openai-whisper and faster-whisper: a model is multilingual iff its vocabulary has the full
        // multilingual size (51865 tokens or more); English-only models have 51864.
        let multilingual = tokens.len() >= 51865 && ids.contains_key("<|en|>");
        let table = unicode_to_byte();
        let bytes = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if i >= eot { Vec::new() } else { t.chars().map(|c| table.get(&c).copied().unwrap_or(b'?')).collect() }
            })
            .collect();
        Ok(Vocabulary {
            timestamp_begin: no_timestamps + 1,
            tokens,
            bytes,
            ids,
            eot,
            sot,
            transcribe,
            no_timestamps,
            multilingual,
        })
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub fn id(&self, token: &str) -> Option<usize> {
        self.ids.get(token).copied()
    }

    pub fn token(&self, id: usize) -> &str {
        self.tokens.get(id).map(String::as_str).unwrap_or("")
    }

    pub fn is_timestamp(&self, id: usize) -> bool {
        id >= self.timestamp_begin
    }

    /// Seconds of a timestamp token (steps of 0.02 s).
    pub fn timestamp_secs(&self, id: usize) -> f32 {
        (id - self.timestamp_begin) as f32 * 0.02
    }

    /// The bytes of the text tokens among `ids` (special tokens are skipped).
    pub fn decode_bytes(&self, ids: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        for &id in ids {
            if id < self.eot {
                out.extend_from_slice(&self.bytes[id]);
            }
        }
        out
    }

    pub fn decode(&self, ids: &[usize]) -> String {
        String::from_utf8_lossy(&self.decode_bytes(ids)).into_owned()
    }

    /// The language token for an ISO code (`"en"` → `<|en|>`).
    pub fn language_token(&self, code: &str) -> Option<usize> {
        self.id(&format!("<|{code}|>"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_tokens_decode() {
        let mut tokens: Vec<String> = vec!["Hello".into(), "Ġworld".into(), ",".into(), "Ġcaf".into(), "Ã©".into()];
        tokens.extend(
            ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|notimestamps|>", "<|0.00|>", "<|0.02|>"]
                .map(String::from),
        );
        let v = Vocabulary::from_tokens(tokens).unwrap();
        assert_eq!(v.decode(&[0, 1, 2, 3, 4, 5]), "Hello world, café");
        assert_eq!(v.timestamp_begin, 9);
        assert!((v.timestamp_secs(10) - 0.02).abs() < 1e-6);
        assert!(!v.multilingual);
    }
}
