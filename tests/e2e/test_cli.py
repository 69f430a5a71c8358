"""`mailroom check`, `plan` and `apply` from the command line."""

import subprocess

from mailhost import DEV_SPEC, MAILROOM_BIN, REPO


def run(*args, cwd=None):
    return subprocess.run([MAILROOM_BIN, *args], capture_output=True, text=True, timeout=30, cwd=cwd)


def test_check_accepts_examples():
    for example in sorted((REPO / "examples").glob("*.json")):
        result = run("check", str(example))
        assert result.returncode == 0, f"{example}: {result.stderr}"
        assert "valid" in result.stdout


def test_check_reports_missing_file_without_backtrace(tmp_path):
    result = run("check", str(tmp_path / "absent.json"))
    assert result.returncode == 1
    assert "absent.json" in result.stderr
    assert "panicked" not in result.stderr
    assert "RUST_BACKTRACE" not in result.stderr


def test_check_reports_non_utf8_file(tmp_path):
    spec = tmp_path / "latin1.json"
    spec.write_bytes(b'{"hostname": "caf\xe9"}')
    result = run("check", str(spec))
    assert result.returncode == 1
    assert "UTF-8" in result.stderr
    assert "panicked" not in result.stderr


def test_check_prints_one_line_per_problem(tmp_path):
    spec = tmp_path / "bad.json"
    text = DEV_SPEC.read_text().replace('"127.0.0.1:2587"', '"127.0.0.1:2525"').replace('"version": 1', '"version": 7')
    spec.write_text(text)
    result = run("check", str(spec))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1
    assert len(lines) >= 2, result.stderr
    assert all(line.startswith(str(spec)) for line in lines), lines
    assert any("/version" in line for line in lines)
    assert any("/listeners" in line and "127.0.0.1:2525" in line for line in lines)


def test_plan_then_apply_then_nothing_to_generate(tmp_path):
    spec = tmp_path / "dev.json"
    spec.write_text(DEV_SPEC.read_text())

    first = run("plan", str(spec), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "certificate mail.example.test: generate self-signed (none on disk)" in first.stdout
    assert "listener mx 127.0.0.1:2525: bind" in first.stdout
    assert "daemon smtpd: start" in first.stdout
    assert not (tmp_path / "dev-state").exists(), "plan must not change anything"

    applied = run("apply", str(spec), cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert (tmp_path / "dev-state" / "run" / "runtime.json").exists()
    key = tmp_path / "dev-state" / "certs" / "mail.example.test" / "key.pem"
    assert oct(key.stat().st_mode & 0o777) == "0o600"

    second = run("plan", str(spec), cwd=tmp_path)
    assert "certificate" not in second.stdout
