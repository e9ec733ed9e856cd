"""StepBack's clinical core: the 3MBW protocol, populations, scoring, STEADI.

Pure: no I/O beyond reading its own reference tables, no database, no UI.
The one entry point for raw input is :func:`validate_assessment`.
"""

from .errors import InputError
from .gatekeeper import validate_assessment
from .inputs import Assessment, Sex, SteadiInputs, Trial
from .populations import DEFAULT_POPULATION, POPULATION_IDS, Population, get_population, populations
from .protocol import AssistiveDevice, Footwear, Protocol, StartConvention, StopReason, TimingSource
from .scoring import ScoreResult, score

__all__ = [
    "Assessment", "AssistiveDevice", "DEFAULT_POPULATION", "Footwear", "InputError",
    "POPULATION_IDS", "Population", "Protocol", "ScoreResult", "Sex", "StartConvention",
    "SteadiInputs", "StopReason", "TimingSource", "Trial", "get_population", "populations",
    "score", "validate_assessment",
]
