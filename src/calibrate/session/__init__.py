"""Remote calibration sessions: personal links, a blind entry page per reviewer, the lead's
live view (a small Starlette app served by uvicorn: ``calibrate session``)."""

from calibrate.session._app import MAX_BODY, MAX_RATIONALE, app

__all__ = ["MAX_BODY", "MAX_RATIONALE", "app"]
