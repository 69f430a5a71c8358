import pytest

from mailhost import MailHost


@pytest.fixture
def dev_host(tmp_path, request):
    """A running `mailroom run` of examples/dev.json; its log is printed when a test fails."""
    host = MailHost(tmp_path)
    try:
        host.start()
        yield host
    finally:
        host.stop()
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            print(f"--- mailroom log ---\n{host.log_tail()}")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)
