"""JSON shapes of planning's stages (tahapan): the stage book of an agency-year and stage diffs."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from grms.planning.v1 import stage_pb2
from pydantic import BaseModel, Field

__all__ = [
    "CloseStageIn",
    "OpenRevisionIn",
    "StageBookOut",
    "StageDiffOut",
    "StageItemDiffOut",
    "StageOut",
    "stage_book_out",
    "stage_diff_out",
    "stage_out",
]

StageKind = Literal["rancangan_awal", "rancangan", "akhir", "perubahan", "unspecified"]
ItemChange = Literal["added", "removed", "changed", "unspecified"]


class CloseStageIn(BaseModel):
    """Close the open stage; `expected_version` is the book version the planner saw (0: no check)."""

    expected_version: int = Field(0, ge=0)


class OpenRevisionIn(BaseModel):
    """Open a perubahan stage on a locked plan."""

    reason: str = Field(max_length=1000, examples=["Perubahan APBD 2025"])
    expected_version: int = Field(0, ge=0)


class StageOut(BaseModel):
    number: int
    kind: StageKind
    opened_at: dt.datetime
    opened_by: str
    reason: str
    closed_at: dt.datetime | None
    closed_by: str
    sub_activity_count: int | None
    package_count: int | None
    total_budget: int | None
    total_packaged: int | None


class StageBookOut(BaseModel):
    government_code: str
    agency_code: str
    fiscal_year: int
    version: int
    editable: bool
    stages: list[StageOut]


class FieldChangeOut(BaseModel):
    field: str
    old: str
    new: str


class StageItemDiffOut(BaseModel):
    change: ItemChange
    entity: str
    sub_activity_code: str
    key: str
    fields: list[FieldChangeOut]


class StageDiffOut(BaseModel):
    """The differences from stage `old_stage` to `new_stage` (null: the current working plan)."""

    old_stage: StageOut | None
    new_stage: StageOut | None
    items: list[StageItemDiffOut]


def _name(enum: object, value: int, prefix: str) -> str:
    return enum.Name(value).removeprefix(prefix).lower()  # type: ignore[attr-defined,no-any-return]


def stage_out(s: stage_pb2.PlanningStage) -> StageOut:
    """One stage as JSON."""
    closed = s.HasField("close_time")
    return StageOut(
        number=s.number,
        kind=_name(stage_pb2.StageKind, s.kind, "STAGE_KIND_"),  # type: ignore[arg-type]
        opened_at=s.open_time.ToDatetime(dt.UTC),
        opened_by=s.opened_by,
        reason=s.reason,
        closed_at=s.close_time.ToDatetime(dt.UTC) if closed else None,
        closed_by=s.closed_by,
        sub_activity_count=s.sub_activity_count if closed else None,
        package_count=s.package_count if closed else None,
        total_budget=s.total_budget.rupiah if closed else None,
        total_packaged=s.total_packaged.rupiah if closed else None,
    )


def stage_book_out(b: stage_pb2.StageBook) -> StageBookOut:
    """An agency-year's stages as JSON."""
    return StageBookOut(
        government_code=b.government_code,
        agency_code=b.agency_code,
        fiscal_year=b.fiscal_year,
        version=b.version,
        editable=b.editable,
        stages=[stage_out(s) for s in b.stages],
    )


def stage_diff_out(items: list[stage_pb2.StageItemDiff], old: StageOut | None, new: StageOut | None) -> StageDiffOut:
    """A stage diff as JSON."""
    return StageDiffOut(
        old_stage=old,
        new_stage=new,
        items=[
            StageItemDiffOut(
                change=_name(stage_pb2.ItemChange, i.change, "ITEM_CHANGE_"),  # type: ignore[arg-type]
                entity=i.entity,
                sub_activity_code=i.sub_activity_code,
                key=i.key,
                fields=[FieldChangeOut(field=f.field, old=f.old_value, new=f.new_value) for f in i.fields],
            )
            for i in items
        ],
    )
