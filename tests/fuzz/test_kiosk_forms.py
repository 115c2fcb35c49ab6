"""Every form of the kiosk, fuzzed as an enrolled kiosk at the screen the form is on
(targets.py).

The kiosk's forms have a world of their own: the console's examples change the
site's settings and visitor types, which would move the kiosk's screens under it.
Each example ends as test_console_forms' do (conftest.Watch).
"""

import pytest

from tests.fuzz.runner import fuzz_route
from tests.fuzz.targets import KIOSK
from tests.kiosk.conftest import Visitor
from tests.support.checkins import face_jpeg, licence_back
from tests.support.drivers import Driver

SESSION_COOKIE = "gk_kiosk_session"
# A kiosk page that changes nothing, to read a CSRF token from.
KIOSK_TOKEN_PAGE = "/pickup/see-gate"


@pytest.mark.parametrize("endpoint", sorted(KIOSK))
def test_kiosk_form_survives_fuzzing(world, endpoint, fuzz_figures):
    target = KIOSK[endpoint]
    if endpoint == "kiosk.enrol":
        client, token_page = world.kiosk_app.test_client(), "/enrol"
    else:
        client, token_page = world.kiosk_client(), KIOSK_TOKEN_PAGE

    restore = None
    if target.reach is not None:
        restore = _stand_at(world, client, target.reach)

    fuzz_route(
        world,
        world.kiosk_app,
        endpoint,
        target,
        client,
        token_page=token_page,
        figures=fuzz_figures,
        restore=restore,
    )


def _stand_at(world, client, path: str):
    """Bring the kiosk's draft to the screen at path; returns what puts it back."""
    licence_step = path.endswith("/id-back")
    changes = {"id_type": "drivers_licence"} if licence_step else {}
    if path.startswith("/pickup"):
        Driver(client, face_jpeg(), licence_back()).reach(path, **changes)
    else:
        hosts = [world.ids["host_id"]]
        Visitor(client, hosts, face_jpeg(), licence_back()).reach(path, **changes)

    page = client.get(path)
    assert page.status_code == 200, (path, page.location)
    draft = client.get_cookie(SESSION_COOKIE).value

    def restore():
        client.set_cookie(SESSION_COOKIE, draft)

    return restore
