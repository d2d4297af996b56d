"""What the ``shared.validation`` tests share: catalogs read afresh for each module (import
``fresh_catalogs`` into a test module, it is autouse), and the codes of a result's issues.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.i18n import translations
from shared.validation import Checked


@pytest.fixture(autouse=True, scope="module")
def fresh_catalogs() -> Iterator[None]:
    translations.cache_clear()
    yield
    translations.cache_clear()


def codes(result: Checked[object]) -> list[str]:
    return [issue.code for issue in result.issues]
