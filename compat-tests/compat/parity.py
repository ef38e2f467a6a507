"""The parity table: one line per contract item (CONTRACT.md section + route or event) with
pass / fail / known difference / skipped, printed at the end of the run."""

from collections import OrderedDict

import pytest

PASS, FAIL, KNOWN, SKIP = "pass", "FAIL", "known difference", "skipped"
# A test marked known_difference that passed in --legacy mode: the original does what the
# contract says there, so the mark is wrong (or the run's switches, e.g. LEGACY_CSRF, differ).
MARKED_PASS = "passed despite a known-difference mark"


def contract_of(item):
    """The (section, item) a test is tagged with; exactly one `contract` marker per test."""
    marks = list(item.iter_markers("contract"))
    if len(marks) != 1 or len(marks[0].args) != 2:
        raise pytest.UsageError(f"{item.nodeid}: every test needs exactly one @pytest.mark.contract(section, item)")
    section, name = marks[0].args
    return str(section), name


def section_key(section):
    return tuple(int(p) if p.isdigit() else p for p in section.split("."))


class ParityTable:
    def __init__(self, config):
        self.config = config
        self.item_of = {}  # nodeid -> (section, item)
        self.outcome = OrderedDict()  # nodeid -> (status, reason)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items):
        for item in items:
            self.item_of[item.nodeid] = contract_of(item)

    def pytest_runtest_logreport(self, report):
        if report.nodeid not in self.item_of:
            return
        previous = self.outcome.get(report.nodeid)
        if previous and previous[0] == FAIL:
            return
        if hasattr(report, "wasxfail") and report.skipped:
            status = (KNOWN, report.wasxfail)
        elif hasattr(report, "wasxfail") and report.passed and report.when == "call":
            status = (MARKED_PASS, report.wasxfail)
        elif report.failed:
            status = (FAIL, report.when)
        elif report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            status = (SKIP, reason.removeprefix("Skipped: "))
        elif report.when == "call":
            status = (PASS, "")
        else:
            return
        self.outcome[report.nodeid] = status

    def rows(self):
        groups = OrderedDict()
        for nodeid, status in self.outcome.items():
            groups.setdefault(self.item_of[nodeid], []).append(status)
        rows = []
        for (section, name), statuses in sorted(groups.items(), key=lambda kv: section_key(kv[0][0])):
            kinds = [s for s, _ in statuses]
            counts = ", ".join(f"{kinds.count(k)} {label}" for k, label in
                               ((PASS, "passed"), (MARKED_PASS, "passed despite a mark"), (FAIL, "failed"),
                                (KNOWN, "known"), (SKIP, "skipped"))
                               if kinds.count(k))
            if FAIL in kinds:
                result = FAIL
            elif KNOWN in kinds:
                result = KNOWN
            elif PASS in kinds or MARKED_PASS in kinds:
                result = PASS
            else:
                reasons = sorted({r for s, r in statuses if s == SKIP})
                result = SKIP
                counts += f" ({'; '.join(reasons)})"
            rows.append((section, name, result, counts))
        return rows

    def pytest_terminal_summary(self, terminalreporter):
        rows = self.rows()
        if not rows:
            return
        tr = terminalreporter
        mode = "legacy mode: known differences allowed" if self.config.getoption("legacy") else "strict"
        settings = getattr(self.config, "compat_settings", None)
        contract = "CONTRACT-v2.md" if settings and settings.generacion == "v2" else "CONTRACT.md"
        tr.section(f"contract parity, {contract} ({mode})")
        width = max(len(name) for _, name, _, _ in rows)
        tr.write_line(f"{'§':<4} {'contract item':<{width}}  {'result':<17} tests")
        for section, name, result, counts in rows:
            markup = {"green": result == PASS, "red": result == FAIL, "yellow": result == KNOWN}
            tr.write(f"{section:<4} {name:<{width}}  ")
            tr.write(f"{result:<17}", **{k: v for k, v in markup.items() if v}, bold=result == FAIL)
            tr.write_line(f" {counts}")
        totals = [r for _, _, r, _ in rows]
        tr.write_line(f"{len(rows)} contract items: {totals.count(PASS)} pass, {totals.count(FAIL)} fail, "
                      f"{totals.count(KNOWN)} known difference, "
                      f"{totals.count(SKIP)} skipped")
        marked = [s for s, _ in self.outcome.values()].count(MARKED_PASS)
        if marked:
            tr.write_line(f"{marked} tests passed despite a known-difference mark (listed as XPASS above)")
