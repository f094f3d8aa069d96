"""Which services a bid's choice safeguards cover, specialties included.

A safeguard for a service line covers the line and every specialty under it; a safeguard for
one specialty (`{service: outpatients, specialty: diabetes}`) covers only that specialty. So
an agreement or a partner's provision for the whole line is covered only by a safeguard for
the whole line. A safeguard whose description is still a placeholder ("[to be written: ...]")
is not one yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from icorules.inputs.codes import is_placeholder
from icorules.inputs.proposal import Proposal
from icorules.inputs.services import ServiceEntry


@dataclass
class Safeguards:
    """The bid's choice safeguards: what they cover, their mechanisms, where they are."""

    lines: set[str] = field(default_factory=set)  # lines covered whole
    specialties: set[str] = field(default_factory=set)  # "line/specialty" covered
    mechanisms: dict[str, list[str]] = field(default_factory=dict)  # line -> mechanisms
    paths: dict[str, str] = field(default_factory=dict)  # line -> its first safeguard

    @classmethod
    def of(cls, proposal: Proposal) -> Safeguards:
        found = cls()
        # str() of a StrEnum member is its value, in C; `.value` is a Python-level property.
        for index, safeguard in enumerate(proposal.choice_safeguards):
            line = str(safeguard.service)
            found.paths.setdefault(line, f"choice_safeguards[{index}]")
            if is_placeholder(safeguard.description):
                continue
            if safeguard.specialty:
                found.specialties.add(f"{line}/{safeguard.specialty}")
            else:
                found.lines.add(line)
            found.mechanisms.setdefault(line, []).extend(map(str, safeguard.mechanisms))
        return found

    def covers(self, entry: ServiceEntry) -> bool:
        """A safeguard covers this service (a line, or a specialty of one)."""
        return str(entry.service) in self.lines or entry.key in self.specialties

    def uncovered(self, services: Iterable[ServiceEntry]) -> list[str]:
        """The services no safeguard covers, as `line` or `line/specialty`, each once, sorted."""
        return sorted({entry.key for entry in services if not self.covers(entry)})
