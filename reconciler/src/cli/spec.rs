//! `mailroom check`, `schema`, `plan`, `apply` and `hash-password`.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use chrono::Utc;
use mailroom_spec::{HostSpec, Listener};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::controllers::acme;
use crate::controllers::certificate::{self, DesiredCertificate, Source};
use crate::controllers::daemon::DaemonKind;
use crate::spec_source::{self, LoadedSpec};
use crate::state::StateDir;
use crate::status::StatusBoard;

pub fn check(path: &Path) -> ExitCode {
    match spec_source::load(path) {
        Ok(loaded) => {
            println!("{}: valid (revision {})", path.display(), loaded.revision.short());
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for problem in &errors.problems {
                eprintln!("{}: {problem}", path.display());
            }
            ExitCode::FAILURE
        }
    }
}

pub fn schema() -> ExitCode {
    print!("{}", mailroom_spec::json_schema_text());
    ExitCode::SUCCESS
}

pub fn plan(path: &Path) -> ExitCode {
    let Some((loaded, state)) = load_with_state(path) else {
        return ExitCode::FAILURE;
    };
    let agent = running_agent(&state);
    let previous = read_applied(&state);

    let mut lines = certificate_plan(&loaded.spec, &state);
    lines.extend(listener_plan(&loaded.spec, previous.as_ref().filter(|_| agent.is_some())));
    lines.extend(daemon_plan(&loaded, previous.as_ref(), agent));
    if lines.is_empty() {
        println!("no changes: revision {} is applied", loaded.revision.short());
    }
    for line in lines {
        println!("{line}");
    }
    ExitCode::SUCCESS
}

pub fn apply(path: &Path) -> ExitCode {
    let Some((loaded, state)) = load_with_state(path) else {
        return ExitCode::FAILURE;
    };
    let board = StatusBoard::new(&path.display().to_string());
    let Some(cert) = crate::render::certificate(&loaded.spec, &state, &board, None) else {
        eprintln!("{}: no usable certificate; see the error above", path.display());
        return ExitCode::FAILURE;
    };
    if let Err(error) = crate::render::runtime(&loaded, &state, cert) {
        eprintln!("{error}");
        return ExitCode::FAILURE;
    }
    match running_agent(&state) {
        Some(pid) => match kill(pid, Signal::SIGHUP) {
            Ok(()) => println!("applied revision {}; mailroom run (pid {pid}) is reloading", loaded.revision.short()),
            Err(error) => eprintln!("applied revision {}, but cannot signal mailroom run (pid {pid}): {error}", loaded.revision.short()),
        },
        None => println!(
            "applied revision {}; no mailroom run is active for {}, so start one to serve it",
            loaded.revision.short(),
            state.root().display()
        ),
    }
    ExitCode::SUCCESS
}

pub fn hash_password() -> ExitCode {
    let mut input = String::new();
    if let Err(error) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("cannot read the password from standard input: {error}");
        return ExitCode::FAILURE;
    }
    let password = input.strip_suffix('\n').map(|p| p.strip_suffix('\r').unwrap_or(p)).unwrap_or(&input);
    if password.is_empty() {
        eprintln!("empty password: write the password to standard input, e.g. `mailroom hash-password < file`");
        return ExitCode::FAILURE;
    }
    println!("{}", mailroom_runtime::hash_password(password));
    ExitCode::SUCCESS
}

fn load_with_state(path: &Path) -> Option<(LoadedSpec, StateDir)> {
    let loaded = match spec_source::load(path) {
        Ok(loaded) => loaded,
        Err(errors) => {
            for problem in &errors.problems {
                eprintln!("{}: {problem}", path.display());
            }
            return None;
        }
    };
    match StateDir::new(&loaded.spec.state_dir) {
        Ok(state) => Some((loaded, state)),
        Err(error) => {
            eprintln!("cannot use state directory {}: {error}", loaded.spec.state_dir.display());
            None
        }
    }
}

/// Returns the pid of a live `mailroom run` for `state`, from its pid file.
fn running_agent(state: &StateDir) -> Option<Pid> {
    let text = std::fs::read_to_string(state.agent_pid()).ok()?;
    let pid = Pid::from_raw(text.trim().parse().ok()?);
    kill(pid, None).ok().map(|()| pid)
}

fn read_applied(state: &StateDir) -> Option<(HostSpec, String)> {
    let text = std::fs::read(state.applied_spec()).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&text).ok()?;
    let spec = serde_json::from_value(value.get("spec")?.clone()).ok()?;
    let hash = value.pointer("/revision/content_hash")?.as_str()?.to_owned();
    Some((spec, hash))
}

fn certificate_plan(spec: &HostSpec, state: &StateDir) -> Vec<String> {
    let desired = DesiredCertificate::from_spec(spec, state);
    let name = &desired.names[0];
    if desired.source == Source::Acme {
        let current = acme::stored::read(&desired);
        let decision = acme::decide(spec, current.as_ref().map(|(_, issued)| issued), &desired, Utc::now());
        return if decision.is_due() { vec![format!("certificate {name}: {decision}")] } else { Vec::new() };
    }
    match certificate::observe(&desired) {
        Ok(observed) => certificate::plan(&desired, observed.as_ref(), Utc::now())
            .into_iter()
            .map(|action| format!("certificate {name}: {action}"))
            .collect(),
        Err(error) => vec![format!("certificate {name}: cannot be used ({error})")],
    }
}

/// Listener changes against the applied spec, or every listener when no
/// `mailroom run` is active.
fn listener_plan(spec: &HostSpec, previous: Option<&(HostSpec, String)>) -> Vec<String> {
    let before: &[Listener] = previous.map(|(spec, _)| spec.listeners.as_slice()).unwrap_or(&[]);
    let describe = |l: &Listener| format!("listener {} {}", l.role.as_str(), l.address);
    let mut lines: Vec<String> =
        spec.listeners.iter().filter(|l| !before.contains(l)).map(|l| format!("{}: bind", describe(l))).collect();
    lines.extend(before.iter().filter(|l| !spec.listeners.contains(l)).map(|l| format!("{}: close", describe(l))));
    lines
}

fn daemon_plan(loaded: &LoadedSpec, previous: Option<&(HostSpec, String)>, agent: Option<Pid>) -> Vec<String> {
    let mut lines = Vec::new();
    for kind in DaemonKind::ALL.into_iter().filter(|k| k.is_wanted(&loaded.spec)) {
        let line = match (agent, previous) {
            (None, _) => format!("daemon {}: start (no mailroom run is active)", kind.name()),
            (Some(_), Some((_, hash))) if *hash != loaded.revision.content_hash => {
                format!("daemon {}: reload (spec changed since the applied revision)", kind.name())
            }
            _ => continue,
        };
        lines.push(line);
    }
    lines
}
