"""Planning stage use cases: read an agency-year's stages, close a stage, open a perubahan, diff two stages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from grms_kit.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from grms_kit.identity import Identity, Role

from grms_planning.domain.stages import (
    ItemDiff,
    Stage,
    StageBook,
    check_stage_number,
    diff_stages,
    snapshot_content,
)
from grms_planning.service_layer.ports import UnitOfWork

__all__ = [
    "CloseStage",
    "OpenRevision",
    "StageDiff",
    "StageScope",
    "close_stage",
    "diff",
    "get_stage_book",
    "open_revision",
]

_GOV_CODE = re.compile(r"^\d{2}(\.\d{2})?$")


@dataclass(frozen=True)
class StageScope:
    """One agency's plan for one fiscal year."""

    government_code: str
    agency_code: str
    fiscal_year: int


@dataclass(frozen=True)
class CloseStage:
    scope: StageScope
    expected_version: int | None


@dataclass(frozen=True)
class OpenRevision:
    scope: StageScope
    reason: str
    expected_version: int | None


@dataclass(frozen=True)
class StageDiff:
    """The differences from stage `old` to stage `new` (None means the current working plan)."""

    old: Stage | None
    new: Stage | None
    items: list[ItemDiff]


def _check_scope(scope: StageScope) -> None:
    violations: list[FieldViolation] = []
    if not _GOV_CODE.match(scope.government_code):
        violations.append(FieldViolation("government_code", 'must be a region code like "33.74"'))
    if not scope.agency_code.strip():
        violations.append(FieldViolation("agency_code", "is required"))
    if not 2000 <= scope.fiscal_year <= 2100:
        violations.append(FieldViolation("fiscal_year", "must be a year like 2025"))
    if violations:
        raise InvalidArgument(violations)


def _load(uow: UnitOfWork, scope: StageScope, actor: Identity) -> tuple[StageBook, int | None]:
    """The book and its stored version, or a fresh book (None: not stored yet); NotFound for an unknown agency."""
    if not uow.reference.agency_known(scope.government_code, scope.agency_code):
        raise NotFound(f"agency {scope.agency_code} of government {scope.government_code} is not known to planning")
    found = uow.stages.get(scope.government_code, scope.agency_code, scope.fiscal_year)
    if found is not None:
        return found, found.version
    fresh = StageBook.start(
        scope.government_code, scope.agency_code, scope.fiscal_year, actor=actor.sub, now=uow.clock.now()
    )
    return fresh, None


def _book(uow: UnitOfWork, scope: StageScope, actor: Identity) -> StageBook:
    return _load(uow, scope, actor)[0]


def _reader(actor: Identity, scope: StageScope) -> None:
    actor.require_role(*Role.ALL)
    if not actor.has_role(Role.SERVICE):
        actor.require_government(scope.government_code)


def _planner(actor: Identity, scope: StageScope) -> None:
    actor.require_role(Role.PLANNER, Role.ADMIN)
    actor.require_government(scope.government_code)
    if not actor.has_role(Role.ADMIN) and actor.agencies and scope.agency_code not in actor.agencies:
        raise PermissionDenied(f"not allowed for agency {scope.agency_code}")


def _store(uow: UnitOfWork, book: StageBook, previous: int | None) -> None:
    if previous is None:
        uow.stages.add(book)
    else:
        uow.stages.save(book, previous_version=previous)


def get_stage_book(scope: StageScope, *, uow: UnitOfWork, actor: Identity) -> StageBook:
    """The stages of an agency-year (without snapshot content); rancangan awal open if none was stored."""
    _check_scope(scope)
    _reader(actor, scope)
    with uow:
        return _book(uow, scope, actor)


def close_stage(cmd: CloseStage, *, uow: UnitOfWork, actor: Identity) -> StageBook:
    """Close the open stage with a snapshot of every sub-activity and package of the agency-year."""
    _check_scope(cmd.scope)
    _planner(actor, cmd.scope)
    s = cmd.scope
    with uow:
        book, previous = _load(uow, s, actor)
        subs = uow.sub_activities.list(
            s.government_code, s.fiscal_year, agency_code=s.agency_code, after=(), limit=None
        )
        packages = uow.packages.list(
            s.government_code, s.fiscal_year, agency_code=s.agency_code, sub_activity_id="", after=(), limit=None
        )
        book.close(
            snapshot_content(subs, packages),
            expected_version=cmd.expected_version,
            actor=actor.sub,
            now=uow.clock.now(),
        )
        _store(uow, book, previous)
        uow.commit()
        return book


def open_revision(cmd: OpenRevision, *, uow: UnitOfWork, actor: Identity) -> StageBook:
    """Open a perubahan stage of a locked agency-year, with its reason."""
    _check_scope(cmd.scope)
    _planner(actor, cmd.scope)
    s = cmd.scope
    with uow:
        book, previous = _load(uow, s, actor)
        book.open_revision(cmd.reason, expected_version=cmd.expected_version, actor=actor.sub, now=uow.clock.now())
        _store(uow, book, previous)
        uow.commit()
        return book


def diff(scope: StageScope, old: int, new: int, *, uow: UnitOfWork, actor: Identity) -> StageDiff:
    """Differences from closed stage `old` to closed stage `new`; 0 stands for the current working plan."""
    _check_scope(scope)
    violations: list[FieldViolation] = []
    check_stage_number(old, "from_stage", violations)
    check_stage_number(new, "to_stage", violations)
    if violations:
        raise InvalidArgument(violations)
    _reader(actor, scope)
    with uow:
        book = _book(uow, scope, actor)
        contents = []
        stages: list[Stage | None] = []
        for number, path in ((old, "from_stage"), (new, "to_stage")):
            if number == 0:
                subs = uow.sub_activities.list(
                    scope.government_code, scope.fiscal_year, agency_code=scope.agency_code, after=(), limit=None
                )
                packages = uow.packages.list(
                    scope.government_code,
                    scope.fiscal_year,
                    agency_code=scope.agency_code,
                    sub_activity_id="",
                    after=(),
                    limit=None,
                )
                contents.append(snapshot_content(subs, packages).content)
                stages.append(None)
                continue
            stage = book.stage(number)
            if stage is None or not stage.closed:
                closed = ", ".join(str(x.number) for x in book.stages if x.closed) or "none yet"
                raise InvalidArgument.field(path, f"stage {number} is not a closed stage (closed: {closed})")
            content = uow.stages.content(scope.government_code, scope.agency_code, scope.fiscal_year, number)
            assert content is not None
            contents.append(content)
            stages.append(stage)
    assert contents[0] is not None and contents[1] is not None
    return StageDiff(stages[0], stages[1], diff_stages(contents[0], contents[1]))
