use anyhow::{Context, Result};
use voxmill_server::ServeOptions;

use super::Outcome;
use crate::cli::ServeArgs;
use crate::mode::Mode;

/// `voxmill serve`: the API and the web UI until Ctrl-C.
pub fn serve(args: &ServeArgs, mode: Mode) -> Result<Outcome> {
    let loopback = args.addr.ip().is_loopback();
    let token = match &args.token {
        Some(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
        _ if loopback => None,
        _ => Some(voxmill_server::security::new_token().context("cannot make a token from /dev/urandom")?),
    };
    let opts = ServeOptions {
        root: std::path::absolute(&args.dir).with_context(|| format!("{}: cannot resolve path", args.dir.display()))?,
        addr: args.addr,
        token: token.clone(),
        exe: std::env::current_exe().context("cannot find the voxmill binary to run the pipeline with")?,
        max_upload_bytes: args.max_upload_mb.saturating_mul(1 << 20),
        offline: args.offline,
    };
    let root = opts.root.clone();
    voxmill_server::serve(opts, |addr| {
        let url = match &token {
            Some(t) => format!("http://{addr}/?token={t}"),
            None => format!("http://{addr}/"),
        };
        match mode {
            Mode::Json => println!(
                "{}",
                serde_json::json!({"event": "listening", "addr": addr.to_string(), "url": url, "token": token, "root": root})
            ),
            Mode::Quiet => {}
            Mode::Human => {
                eprintln!("Serving {} on {url}", root.display());
                if let Some(t) = &token {
                    eprintln!("API requests need the token: Authorization: Bearer {t}");
                }
                eprintln!("Press Ctrl-C to stop (a run in progress is stopped and resumes on the next run).");
            }
        }
    })?;
    Ok(Outcome::Success)
}
