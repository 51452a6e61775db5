//! Black-box tests of `corral server` configuration handling: the built
//! binary is run with real files and flags.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const CORRAL: &str = env!("CARGO_BIN_EXE_corral");

/// How long the binary may take to log its startup; a deadline, not a sleep.
const STARTUP_DEADLINE: Duration = Duration::from_secs(60);

fn write_cfg(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("zoo.cfg");
    std::fs::write(&path, text).expect("write zoo.cfg");
    path
}

fn run(args: &[&str]) -> Output {
    Command::new(CORRAL).args(args).env("RUST_LOG", "info").output().expect("run corral")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn invalid_value_in_file_exits_non_zero_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_cfg(dir.path(), "clientPort=2181\ntickTime=fast\n");
    let output = run(&["server", "--config", cfg.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let err = stderr(&output);
    assert!(err.contains("tickTime") && err.contains("\"fast\""), "{err}");
}

#[test]
fn invalid_override_exits_non_zero_naming_the_key() {
    let output = run(&["server", "--min-session-timeout", "9000", "--max-session-timeout", "3000"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr(&output).contains("minSessionTimeout"), "{}", stderr(&output));

    let output = run(&["server", "--super-digest", "nocolon"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr(&output).contains("superDigest"), "{}", stderr(&output));
}

#[test]
fn missing_config_file_exits_non_zero_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("absent.cfg");
    let output = run(&["server", "--config", missing.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr(&output).contains("absent.cfg"), "{}", stderr(&output));
}

#[test]
fn malformed_flag_is_rejected_by_the_parser() {
    let output = run(&["server", "--port", "70000"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--port"), "{}", stderr(&output));
}

#[test]
fn version_prints_the_crate_version() {
    let output = run(&["version"]);
    assert!(output.status.success());
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(out.trim(), format!("corral {}", env!("CARGO_PKG_VERSION")));
}

/// An unknown key is a warning naming it, and the server goes on to start;
/// SIGTERM then stops it cleanly.
#[cfg(unix)]
#[test]
fn unknown_key_warns_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let cfg = write_cfg(
        dir.path(),
        &format!("clientPort=0\nclientPortAddress=127.0.0.1\ndataDir={}\nadmin.serverPort=8080\n", data.display()),
    );
    let mut child = Command::new(CORRAL)
        .args(["server", "--config", cfg.to_str().expect("utf-8 path")])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn corral");

    // Drain stderr on a thread (so the child never blocks on a full pipe)
    // and hand lines over until it closes.
    let pipe = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    // The warning comes from parsing; the "starting" line is logged once the
    // signal handlers are installed, so SIGTERM cannot arrive too early.
    let mut seen: Vec<String> = Vec::new();
    while !seen.iter().any(|line| line.contains("SIGTERM or SIGINT stops the server")) {
        match rx.recv_timeout(STARTUP_DEADLINE) {
            Ok(line) => seen.push(line),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("corral did not report starting; stderr:\n{}", seen.join("\n"));
            }
        }
    }
    assert!(
        seen.iter().any(|line| line.contains("WARN") && line.contains("admin.serverPort")),
        "no warning naming admin.serverPort; stderr:\n{}",
        seen.join("\n")
    );

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("run kill");
    assert!(killed.success());
    let status = child.wait().expect("wait for corral");
    let _ = reader.join();
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(status.success(), "exit {status:?}; stderr:\n{}\n{}", seen.join("\n"), rest.join("\n"));
}
