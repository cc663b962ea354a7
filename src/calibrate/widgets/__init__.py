"""Widgets for live calibration sessions in JupyterLab (or served with Voila)."""

from calibrate.widgets._dashboard import LeadDashboard, agreement_bars, round_status
from calibrate.widgets._entry import ScoreEntryForm

__all__ = ["LeadDashboard", "ScoreEntryForm", "agreement_bars", "round_status"]
