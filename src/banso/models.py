"""Import every capability's tables so that Base.metadata is complete (Alembic, tests)."""

from banso.accounts import models as accounts  # noqa: F401
from banso.audit import models as audit  # noqa: F401
from banso.auth import models as auth  # noqa: F401
from banso.contracts import models as contracts  # noqa: F401
from banso.db import Base
from banso.deals import models as deals  # noqa: F401
from banso.imports import models as imports  # noqa: F401

metadata = Base.metadata
