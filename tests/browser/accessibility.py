"""axe-core on a page: the serious and critical violations every scan refuses."""

from axe_playwright_python.sync_playwright import Axe

BLOCKING = {"serious", "critical"}
_axe = Axe()


def blocking_violations(page, screen: str = "the page") -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, named."""
    page.wait_for_load_state("load")
    result = _axe.run(page)
    assert result.response["passes"], f"axe checked nothing on {screen}"
    return [
        f"{screen}: {v['id']} ({v['impact']}) {[n['target'] for n in v['nodes']]}"
        for v in result.response["violations"]
        if v["impact"] in BLOCKING
    ]


class Audit:
    """Runs axe on pages and collects the blocking violations of all of them."""

    def __init__(self):
        self.found = []

    def __call__(self, page, screen: str) -> None:
        self.found.extend(blocking_violations(page, screen))

    def assert_clean(self) -> None:
        assert not self.found, "axe violations:\n" + "\n".join(self.found)
