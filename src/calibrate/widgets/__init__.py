"""Widgets for live calibration sessions in JupyterLab (or served with Voila)."""

from calibrate.widgets._dashboard import LeadDashboard, agreement_bars, round_status
from calibrate.widgets._entry import ScoreEntryForm
from calibrate.widgets._tuner import PolicyTuner

__all__ = ["LeadDashboard", "PolicyTuner", "ScoreEntryForm", "agreement_bars", "round_status"]
