"""Import every capability's tables so that Base.metadata is complete (Alembic, tests)."""

from banso.accounts import models as accounts  # noqa: F401
from banso.audit import models as audit  # noqa: F401
from banso.auth import models as auth  # noqa: F401
from banso.contracts import models as contracts  # noqa: F401
from banso.db import Base
from banso.deals import models as deals  # noqa: F401
from banso.documents import models as documents  # noqa: F401
from banso.events import models as events  # noqa: F401
from banso.health import models as health  # noqa: F401
from banso.imports import models as imports  # noqa: F401
from banso.knowledge import models as knowledge  # noqa: F401
from banso.meetings import models as meetings  # noqa: F401
from banso.metrics import models as metrics  # noqa: F401
from banso.notify import models as notify  # noqa: F401
from banso.observations import models as observations  # noqa: F401
from banso.profiles import models as profiles  # noqa: F401
from banso.search import models as search  # noqa: F401
from banso.segments import models as segments  # noqa: F401
from banso.tasks import models as tasks  # noqa: F401
from banso.timeline import models as timeline  # noqa: F401
from banso.web import models as web  # noqa: F401

metadata = Base.metadata
