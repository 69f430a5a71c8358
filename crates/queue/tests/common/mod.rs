//! The SES stand-in from the test lab (`tests/peers/tools/ses_server.py`,
//! aiosmtpd) as a peer for the relay client, with a test CA.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use mailroom_queue::client::{RelayTarget, Secret, TlsMode};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

pub const USER: &str = "AKIALABTESTUSER";
pub const HOSTNAME: &str = "localhost";

/// A running stand-in; dropping it stops the process.
pub struct StandIn {
    pub folder: tempfile::TempDir,
    pub port: u16,
    pub ca_file: PathBuf,
    pub password: String,
    child: Child,
}

impl StandIn {
    /// Starts the stand-in on a free loopback port with `password` for
    /// [`USER`], and waits until it accepts connections.
    pub fn start(password: &str) -> Self {
        let folder = tempfile::tempdir().expect("temporary folder");
        let (ca_file, cert_file, key_file) = write_certificates(folder.path());
        std::fs::write(folder.path().join("password"), password).expect("write password");
        let port = free_port();

        let script = repository_root().join("tests/peers/tools/ses_server.py");
        let child = Command::new("/usr/bin/python3")
            .arg(script)
            .args(["--address", "127.0.0.1", "--port", &port.to_string(), "--hostname", HOSTNAME])
            .arg("--cert").arg(&cert_file)
            .arg("--key").arg(&key_file)
            .args(["--user", USER])
            .arg("--password-file").arg(folder.path().join("password"))
            .arg("--folder").arg(folder.path().join("messages"))
            .arg("--control-file").arg(folder.path().join("control.json"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start /usr/bin/python3 with tests/peers/tools/ses_server.py (needs python3-aiosmtpd)");
        let mut stand_in = Self { folder, port, ca_file, password: password.to_owned(), child };
        stand_in.wait_until_listening();
        stand_in
    }

    fn wait_until_listening(&mut self) {
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Some(status) = self.child.try_wait().expect("poll stand-in") {
                panic!("SES stand-in exited early with {status}");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Writes the control file the stand-in reads at every DATA.
    pub fn control(&self, json: &str) {
        std::fs::write(self.folder.path().join("control.json"), json).expect("write control file");
    }

    /// Returns the stored messages in arrival order, each as (envelope JSON, bytes).
    pub fn messages(&self) -> Vec<(serde_json::Value, Vec<u8>)> {
        let folder = self.folder.path().join("messages");
        let Ok(entries) = std::fs::read_dir(&folder) else { return Vec::new() };
        let mut names: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect();
        names.sort();
        names
            .into_iter()
            .map(|eml| {
                let envelope = std::fs::read(eml.with_extension("json")).unwrap();
                (serde_json::from_slice(&envelope).unwrap(), std::fs::read(&eml).unwrap())
            })
            .collect()
    }

    /// Returns a relay target for this stand-in that logs in with `password`.
    pub fn target(&self, password: &str) -> RelayTarget {
        RelayTarget {
            host: HOSTNAME.to_owned(),
            port: self.port,
            tls: TlsMode::Starttls,
            username: USER.to_owned(),
            password: Secret(password.to_owned()),
            ca_file: Some(self.ca_file.clone()),
            helo_name: "mail.example.test".to_owned(),
        }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

/// Returns a loopback port that no listener uses now.
///
/// The probe socket is closed before the stand-in binds the port, so two tests
/// running in parallel could draw the same port, and one would then talk to
/// the other's stand-in. Ports already handed out in this process are skipped.
pub fn free_port() -> u16 {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0").expect("bind a free port").local_addr().unwrap().port();
        if handed_out.insert(port) {
            return port;
        }
    }
}

/// Writes a test CA and a certificate it signs for `localhost` and
/// 127.0.0.1; returns the CA, certificate and key files.
fn write_certificates(folder: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "mailroom queue test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key")).expect("CA certificate");

    let key = KeyPair::generate().expect("server key");
    let certificate = CertificateParams::new(vec![HOSTNAME.to_owned(), "127.0.0.1".to_owned()])
        .expect("server parameters")
        .signed_by(&key, &ca)
        .expect("server certificate");

    let files = (folder.join("ca.pem"), folder.join("cert.pem"), folder.join("key.pem"));
    std::fs::write(&files.0, ca.pem()).expect("write CA");
    std::fs::write(&files.1, certificate.pem()).expect("write certificate");
    std::fs::write(&files.2, key.serialize_pem()).expect("write key");
    files
}
