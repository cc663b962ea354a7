"""calibrate: calibration, reliability, reviewer drift and decision policies for rubric review programs.

The package is organised the way the data flows:

- ``calibrate.rubric``   rubrics (criteria, levels, pass rule, review policy) from YAML
- ``calibrate.io``       reading and validating ratings, answer keys and form exports
- ``calibrate.ratings``  the canonical ratings table and its converters
- ``calibrate.store``    the embedded SQLite store
- ``calibrate.synth``    synthetic review programs with known truth
- ``calibrate.cli``      the ``calibrate`` command line
"""

from calibrate._problems import DataProblemError, Problem, RatingsError, RubricError
from calibrate._version import __version__

__all__ = ["DataProblemError", "Problem", "RatingsError", "RubricError", "__version__"]
