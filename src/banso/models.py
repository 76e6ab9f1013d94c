"""Import every capability's tables so that Base.metadata is complete (Alembic, tests)."""

from banso.accounts import models as accounts  # noqa: F401
from banso.audit import models as audit  # noqa: F401
from banso.auth import models as auth  # noqa: F401
from banso.contracts import models as contracts  # noqa: F401
from banso.db import Base
from banso.deals import models as deals  # noqa: F401
from banso.events import models as events  # noqa: F401
from banso.health import models as health  # noqa: F401
from banso.imports import models as imports  # noqa: F401
from banso.metrics import models as metrics  # noqa: F401
from banso.search import models as search  # noqa: F401
from banso.segments import models as segments  # noqa: F401
from banso.web import models as web  # noqa: F401

metadata = Base.metadata
