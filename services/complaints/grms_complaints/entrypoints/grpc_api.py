"""The ComplaintsService gRPC API: protobuf in, use case on the database thread, protobuf out."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence

import grpc
from google.protobuf import any_pb2
from grms.common.v1 import paging_pb2
from grms.complaints.v1 import complaints_service_pb2 as pb
from grms.complaints.v1 import complaints_service_pb2_grpc as pb_grpc
from grms_kit.db import Database
from grms_kit.errors import FailedPrecondition, FieldViolation, InvalidArgument
from grms_kit.group_commit import GroupCommit
from grms_kit.grpc_server import error_status
from grms_kit.identity import Identity, current_identity
from grms_kit.paging import Page
from grms_kit.telemetry import extract_context, tracer
from grms_kit.wire import timestamp
from grms_reference.replica import ReferenceReplica
from opentelemetry import trace

from grms_complaints.adapters.wire import (
    CHANNELS,
    CLASSES,
    REJECTIONS,
    STATUSES,
    attachment_to_pb,
    board_to_pb,
    category_from_pb,
    category_to_pb,
    complainant_to_pb,
    complaint_to_pb,
    enum_from_pb,
    inbox_to_pb,
    location_from_pb,
    notification_to_pb,
    public_complaint_to_pb,
    rating_to_pb,
    submitter_from_pb,
)
from grms_complaints.domain.categories import DEFAULT_CATEGORIES, Category
from grms_complaints.domain.duplicates import DuplicatePolicy
from grms_complaints.domain.model import Complainant, Complaint
from grms_complaints.domain.pins import PinGuard
from grms_complaints.domain.sla import SlaPolicy
from grms_complaints.service_layer import handlers
from grms_complaints.service_layer.ports import BoardQuery, PhotoStore, PublicQuery, UnitOfWork

__all__ = ["MAX_FILINGS_PER_CALL", "ComplaintsApi"]

#: The most filings one FileComplaints call may carry.
MAX_FILINGS_PER_CALL = 256
_FILE_ITEM_SPAN = "grms.complaints.v1.ComplaintsService/FileComplaints item"
_tracer = tracer(__name__)


def _page(message: paging_pb2.PageRequest) -> Page:
    return Page(size=message.page_size, token=message.page_token)


def _tracked_to_pb(tracked: handlers.TrackedComplaint) -> pb.TrackComplaintResponse:
    return pb.TrackComplaintResponse(
        ticket_id=tracked.ticket_id,
        status=STATUSES[tracked.status],
        title=tracked.title,
        agency_code=tracked.agency_code,
        replies=[
            {"text": r.text, "agency_code": r.agency_code, "create_time": timestamp(r.created_at)}
            for r in tracked.replies
        ],
        receive_time=timestamp(tracked.received_at),
        update_time=timestamp(tracked.updated_at),
        attachments=[attachment_to_pb(a, public=True) for a in tracked.attachments],
        rating=rating_to_pb(tracked.rating),
        notifications=[notification_to_pb(n) for n in tracked.notifications],
        merged_into=tracked.merged_into,
        watch_token=tracked.watch_token,
    )


class ComplaintsApi(pb_grpc.ComplaintsServiceServicer):
    """grms.complaints.v1.ComplaintsService: the complaint use cases and the reference copy's queries."""

    def __init__(
        self,
        db: Database,
        uow: Callable[[], UnitOfWork],
        sla: SlaPolicy,
        replica: ReferenceReplica,
        categories: Sequence[Category] = DEFAULT_CATEGORIES,
        *,
        photos: PhotoStore,
        pins: PinGuard,
        duplicates: DuplicatePolicy | None = None,
        check_duplicates_at_intake: bool = True,
        watch_key: bytes | None = None,
        intake: GroupCommit | None = None,
    ) -> None:
        self.photos = photos
        self.pins = pins
        self.duplicates = duplicates or DuplicatePolicy()
        self.intake_duplicates = self.duplicates if check_duplicates_at_intake else None
        self.db = db
        # Filings that arrive together are written in one transaction, one commit for all.
        self.intake = intake or GroupCommit(db)
        self.uow = uow
        self.sla = sla
        self.replica = replica
        self.categories = tuple(categories)
        self.category_codes = frozenset(c.code for c in self.categories)
        self.watch_key = watch_key

    async def _staff(self, fn: Callable[..., Complaint], *args: object) -> Complaint:
        return await self.db.run(fn, *args, uow=self.uow(), actor=current_identity())

    # Complaints.

    def _file_command(self, request: pb.FileComplaintRequest) -> handlers.FileComplaint:
        c = request.complainant
        return handlers.FileComplaint(
            government_code=request.government_code,
            complaint_class=enum_from_pb(CLASSES, request.complaint_class, "complaint_class"),
            category_code=request.category_code,
            channel=enum_from_pb(CHANNELS, request.channel, "channel"),
            title=request.title,
            description=request.description,
            location=location_from_pb(request.location, request.HasField("location")),
            complainant=Complainant(
                reporter_ref="", name=c.name, nik=c.nik, phone=c.phone, email=c.email, handle=c.handle
            ),
            anonymous=request.anonymous,
            confidential=request.confidential,
            channel_message_id=request.channel_message_id,
            submitted_by=submitter_from_pb(request.submitted_by, request.HasField("submitted_by")),
            photos=tuple(request.photos),
        )

    async def _file(self, request: pb.FileComplaintRequest, actor: Identity) -> pb.FileComplaintResponse:
        filed = await self.intake.run(
            handlers.file_complaint,
            self._file_command(request),
            uow=self.uow(),
            sla=self.sla,
            categories=self.category_codes,
            actor=actor,
            photos=self.photos,
            duplicates=self.intake_duplicates,
            pins=self.pins,
        )
        return pb.FileComplaintResponse(
            ticket_id=filed.complaint.ticket_id,
            pin=filed.pin,
            status=STATUSES[filed.complaint.status],
            receive_time=timestamp(filed.complaint.received_at),
            duplicate_delivery=filed.duplicate_delivery,
        )

    async def FileComplaint(
        self, request: pb.FileComplaintRequest, context: grpc.aio.ServicerContext
    ) -> pb.FileComplaintResponse:
        return await self._file(request, current_identity())

    async def FileComplaints(
        self, request: pb.FileComplaintsRequest, context: grpc.aio.ServicerContext
    ) -> pb.FileComplaintsResponse:
        if len(request.items) > MAX_FILINGS_PER_CALL:
            raise InvalidArgument(
                [FieldViolation("items", f"at most {MAX_FILINGS_PER_CALL} filings per call, not {len(request.items)}")]
            )
        actor = current_identity()
        batch = trace.get_current_span().get_span_context()
        # All items queue for the group commit before its next batch starts: they share its transaction.
        results = await asyncio.gather(*(self._file_item(item, actor, batch) for item in request.items))
        return pb.FileComplaintsResponse(results=results)

    async def _file_item(
        self, item: pb.FileComplaintsItem, actor: Identity, batch: trace.SpanContext
    ) -> pb.FileComplaintsResult:
        """One filing of a batch, in its own request's trace (linked to the batch call): its ticket or its error."""
        parent = extract_context(item.trace_context)
        links = [trace.Link(batch)] if batch.is_valid else []
        with _tracer.start_as_current_span(_FILE_ITEM_SPAN, context=parent, links=links, kind=trace.SpanKind.SERVER):
            try:
                filed = await self._file(item.filing, actor)
            except Exception as exc:
                error = any_pb2.Any()
                error.Pack(error_status(exc, _FILE_ITEM_SPAN))
                return pb.FileComplaintsResult(error=error)
        return pb.FileComplaintsResult(filed=filed)

    async def GetComplaint(
        self, request: pb.GetComplaintRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetComplaintResponse:
        complaint = await self._staff(handlers.get_complaint, request.ticket_id)
        return pb.GetComplaintResponse(complaint=complaint_to_pb(complaint))

    async def TrackComplaint(
        self, request: pb.TrackComplaintRequest, context: grpc.aio.ServicerContext
    ) -> pb.TrackComplaintResponse:
        tracked = await self.db.run(
            handlers.track_complaint,
            request.ticket_id,
            request.pin,
            uow=self.uow(),
            pins=self.pins,
            watch_key=self.watch_key,
        )
        return _tracked_to_pb(tracked)

    async def WatchComplaint(
        self, request: pb.WatchComplaintRequest, context: grpc.aio.ServicerContext
    ) -> pb.WatchComplaintResponse:
        if self.watch_key is None:
            raise FailedPrecondition("live tracking is not configured on this service")
        tracked = await self.db.run(
            handlers.watch_complaint, request.ticket_id, request.watch_token, uow=self.uow(), watch_key=self.watch_key
        )
        return pb.WatchComplaintResponse(tracked=_tracked_to_pb(tracked))

    async def VerifyComplaint(
        self, request: pb.VerifyComplaintRequest, context: grpc.aio.ServicerContext
    ) -> pb.VerifyComplaintResponse:
        complaint = await self._staff(handlers.verify_complaint, request.ticket_id)
        return pb.VerifyComplaintResponse(complaint=complaint_to_pb(complaint))

    async def AssignComplaint(
        self, request: pb.AssignComplaintRequest, context: grpc.aio.ServicerContext
    ) -> pb.AssignComplaintResponse:
        cmd = handlers.AssignComplaint(
            ticket_id=request.ticket_id, agency_code=request.agency_code, reason=request.reason
        )
        complaint = await self.db.run(
            handlers.assign_complaint, cmd, uow=self.uow(), actor=current_identity(), sla=self.sla
        )
        return pb.AssignComplaintResponse(complaint=complaint_to_pb(complaint))

    async def StartWork(self, request: pb.StartWorkRequest, context: grpc.aio.ServicerContext) -> pb.StartWorkResponse:
        complaint = await self._staff(handlers.start_work, request.ticket_id)
        return pb.StartWorkResponse(complaint=complaint_to_pb(complaint))

    async def RespondToComplaint(
        self, request: pb.RespondToComplaintRequest, context: grpc.aio.ServicerContext
    ) -> pb.RespondToComplaintResponse:
        complaint = await self._staff(handlers.respond_to_complaint, request.ticket_id, request.text)
        return pb.RespondToComplaintResponse(complaint=complaint_to_pb(complaint))

    async def AddInternalNote(
        self, request: pb.AddInternalNoteRequest, context: grpc.aio.ServicerContext
    ) -> pb.AddInternalNoteResponse:
        complaint = await self._staff(handlers.add_internal_note, request.ticket_id, request.text)
        return pb.AddInternalNoteResponse(complaint=complaint_to_pb(complaint))

    async def ResolveComplaint(
        self, request: pb.ResolveComplaintRequest, context: grpc.aio.ServicerContext
    ) -> pb.ResolveComplaintResponse:
        complaint = await self.db.run(
            handlers.resolve_complaint, request.ticket_id, uow=self.uow(), actor=current_identity(), sla=self.sla
        )
        return pb.ResolveComplaintResponse(complaint=complaint_to_pb(complaint))

    async def CloseComplaint(
        self, request: pb.CloseComplaintRequest, context: grpc.aio.ServicerContext
    ) -> pb.CloseComplaintResponse:
        complaint = await self._staff(handlers.close_complaint, request.ticket_id)
        return pb.CloseComplaintResponse(complaint=complaint_to_pb(complaint))

    async def RejectComplaint(
        self, request: pb.RejectComplaintRequest, context: grpc.aio.ServicerContext
    ) -> pb.RejectComplaintResponse:
        cmd = handlers.RejectComplaint(
            ticket_id=request.ticket_id, reason=enum_from_pb(REJECTIONS, request.reason, "reason"), note=request.note
        )
        complaint = await self._staff(handlers.reject_complaint, cmd)
        return pb.RejectComplaintResponse(complaint=complaint_to_pb(complaint))

    async def ReopenComplaint(
        self, request: pb.ReopenComplaintRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReopenComplaintResponse:
        cmd = handlers.ReopenComplaint(ticket_id=request.ticket_id, pin=request.pin, reason=request.reason)
        complaint = await self.db.run(handlers.reopen_complaint, cmd, uow=self.uow(), sla=self.sla, pins=self.pins)
        return pb.ReopenComplaintResponse(status=STATUSES[complaint.status])

    async def TightenConfidentiality(
        self, request: pb.TightenConfidentialityRequest, context: grpc.aio.ServicerContext
    ) -> pb.TightenConfidentialityResponse:
        cmd = handlers.TightenConfidentiality(
            ticket_id=request.ticket_id,
            anonymous=request.anonymous if request.HasField("anonymous") else None,
            confidential=request.confidential if request.HasField("confidential") else None,
        )
        complaint = await self._staff(handlers.tighten_confidentiality, cmd)
        return pb.TightenConfidentialityResponse(complaint=complaint_to_pb(complaint))

    async def GetComplainantIdentity(
        self, request: pb.GetComplainantIdentityRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetComplainantIdentityResponse:
        complainant = await self.db.run(
            handlers.get_complainant_identity,
            request.ticket_id,
            request.reason,
            uow=self.uow(),
            actor=current_identity(),
        )
        return pb.GetComplainantIdentityResponse(complainant=complainant_to_pb(complainant))

    async def ListPublicComplaints(
        self, request: pb.ListPublicComplaintsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPublicComplaintsResponse:
        by_number = {number: status for status, number in STATUSES.items()}
        unknown = [s for s in request.statuses if s not in by_number]
        if unknown:
            raise InvalidArgument.field("statuses", "must be known statuses")
        query = PublicQuery(
            government_code=request.government_code.strip(),
            category_code=request.category_code.strip(),
            statuses=tuple(by_number[s] for s in request.statuses),
            start=request.start_time.ToDatetime(dt.UTC) if request.HasField("start_time") else None,
            end=request.end_time.ToDatetime(dt.UTC) if request.HasField("end_time") else None,
            ticket_ids=tuple(request.ticket_ids),
        )
        records, token = await self.db.run(handlers.list_public_complaints, query, _page(request.page), uow=self.uow())
        return pb.ListPublicComplaintsResponse(
            complaints=[public_complaint_to_pb(r) for r in records],
            page=paging_pb2.PageResponse(next_page_token=token),
        )

    async def ListCategories(
        self, request: pb.ListCategoriesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListCategoriesResponse:
        if not request.government_code.strip():
            return pb.ListCategoriesResponse(categories=[category_to_pb(c) for c in self.categories])
        found = await self.db.run(
            handlers.list_categories, request.government_code, uow=self.uow(), configured=self.categories
        )
        return pb.ListCategoriesResponse(
            categories=[category_to_pb(c) for c in found if c.active or request.include_retired]
        )

    # The reference copy (budgeting's governments and agencies), answered by the replica.

    async def ListGovernments(
        self, request: pb.ListGovernmentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListGovernmentsResponse:
        items, token = await self.db.run(self.replica.list_governments, request.within_code, _page(request.page))
        return pb.ListGovernmentsResponse(governments=items, page=paging_pb2.PageResponse(next_page_token=token))

    async def ListAgencies(
        self, request: pb.ListAgenciesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAgenciesResponse:
        items, token = await self.db.run(self.replica.list_agencies, request.government_code, _page(request.page))
        return pb.ListAgenciesResponse(agencies=items, page=paging_pb2.PageResponse(next_page_token=token))

    async def GetAgency(self, request: pb.GetAgencyRequest, context: grpc.aio.ServicerContext) -> pb.GetAgencyResponse:
        agency = await self.db.run(self.replica.get_agency, request.government_code, request.code)
        return pb.GetAgencyResponse(agency=agency)

    # Photos.

    async def AddPhoto(self, request: pb.AddPhotoRequest, context: grpc.aio.ServicerContext) -> pb.AddPhotoResponse:
        cmd = handlers.AddPhoto(ticket_id=request.ticket_id, content=request.content, pin=request.pin)
        _, attachment = await self.db.run(
            handlers.add_photo, cmd, uow=self.uow(), photos=self.photos, pins=self.pins, actor=current_identity()
        )
        return pb.AddPhotoResponse(attachment=attachment_to_pb(attachment, public=bool(request.pin)))

    async def AttachChannelMessage(
        self, request: pb.AttachChannelMessageRequest, context: grpc.aio.ServicerContext
    ) -> pb.AttachChannelMessageResponse:
        cmd = handlers.AttachChannelMessage(
            government_code=request.government_code,
            channel=enum_from_pb(CHANNELS, request.channel, "channel"),
            sender_phone=request.sender_phone,
            window=dt.timedelta(seconds=request.window_seconds),
            photo=request.photo,
            location=location_from_pb(request.location, request.HasField("location")),
        )
        complaint, changed = await self.db.run(
            handlers.attach_channel_message, cmd, uow=self.uow(), photos=self.photos, actor=current_identity()
        )
        return pb.AttachChannelMessageResponse(ticket_id=complaint.ticket_id, changed=changed)

    async def GetPhoto(self, request: pb.GetPhotoRequest, context: grpc.aio.ServicerContext) -> pb.GetPhotoResponse:
        actor = current_identity()
        attachment, content = await self.db.run(
            handlers.get_photo,
            request.ticket_id,
            request.sha256,
            uow=self.uow(),
            photos=self.photos,
            pins=self.pins,
            actor=actor,
            pin=request.pin,
        )
        staff = actor.authenticated and not request.pin
        return pb.GetPhotoResponse(attachment=attachment_to_pb(attachment, public=not staff), content=content)

    async def RateComplaint(
        self, request: pb.RateComplaintRequest, context: grpc.aio.ServicerContext
    ) -> pb.RateComplaintResponse:
        cmd = handlers.RateComplaint(
            ticket_id=request.ticket_id, pin=request.pin, score=request.score, comment=request.comment
        )
        complaint = await self.db.run(handlers.rate_complaint, cmd, uow=self.uow(), pins=self.pins)
        return pb.RateComplaintResponse(status=STATUSES[complaint.status], rating=rating_to_pb(complaint.rating))

    # Categories per government.

    def _save(self, government_code: str, message: pb.Category, expected_version: int = 0) -> handlers.SaveCategory:
        return handlers.SaveCategory(
            government_code=government_code,
            category=category_from_pb(message),
            default_agency_code=message.default_agency_code,
            active=not message.retired,
            expected_version=expected_version,
        )

    async def CreateCategory(
        self, request: pb.CreateCategoryRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateCategoryResponse:
        cmd = self._save(request.government_code, request.category)
        saved = await self.db.run(
            handlers.create_category, cmd, uow=self.uow(), actor=current_identity(), configured=self.categories
        )
        return pb.CreateCategoryResponse(category=category_to_pb(saved))

    async def UpdateCategory(
        self, request: pb.UpdateCategoryRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateCategoryResponse:
        cmd = self._save(request.government_code, request.category, request.expected_version)
        saved = await self.db.run(
            handlers.update_category, cmd, uow=self.uow(), actor=current_identity(), configured=self.categories
        )
        return pb.UpdateCategoryResponse(category=category_to_pb(saved))

    # Duplicates.

    async def ListDuplicateCandidates(
        self, request: pb.ListDuplicateCandidatesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListDuplicateCandidatesResponse:
        found = await self.db.run(
            handlers.list_duplicate_candidates,
            request.ticket_id,
            uow=self.uow(),
            actor=current_identity(),
            policy=self.duplicates,
        )
        return pb.ListDuplicateCandidatesResponse(
            candidates=[
                pb.DuplicateCandidate(
                    ticket_id=c.ticket_id,
                    title=other.title,
                    category_code=other.category_code,
                    status=STATUSES[other.status],
                    score=c.score,
                    text_similarity=c.text_similarity,
                    distance_meters=c.distance_m if c.distance_m is not None else -1,
                    same_category=c.same_category,
                    receive_time=timestamp(other.received_at),
                    confidential=other.confidential,
                )
                for c, other in found
            ]
        )

    async def MergeComplaints(
        self, request: pb.MergeComplaintsRequest, context: grpc.aio.ServicerContext
    ) -> pb.MergeComplaintsResponse:
        cmd = handlers.MergeComplaints(
            primary_ticket_id=request.primary_ticket_id,
            duplicate_ticket_id=request.duplicate_ticket_id,
            reason=request.reason,
        )
        duplicate = await self._staff(handlers.merge_complaints, cmd)
        return pb.MergeComplaintsResponse(duplicate=complaint_to_pb(duplicate))

    # The governor's board.

    async def GetComplaintBoard(
        self, request: pb.GetComplaintBoardRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetComplaintBoardResponse:
        period = request.period
        missing = [
            FieldViolation(f"period.{name}", "is required")
            for name in ("start_time", "end_time")
            if not request.HasField("period") or not period.HasField(name)
        ]
        if missing:
            raise InvalidArgument(missing)
        query = BoardQuery(
            government_code=request.government_code,
            start=period.start_time.ToDatetime(dt.UTC),
            end=period.end_time.ToDatetime(dt.UTC),
            agency_codes=frozenset({request.agency_code.strip()}) if request.agency_code.strip() else frozenset(),
            open_only=request.open_only,
        )
        view = await self.db.run(
            handlers.complaint_board, query, _page(request.page), uow=self.uow(), actor=current_identity()
        )
        return board_to_pb(view)

    async def ListInboxComplaints(
        self, request: pb.ListInboxComplaintsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListInboxComplaintsResponse:
        inbox = await self.db.run(
            handlers.list_inbox,
            request.government_code,
            request.agency_code,
            _page(request.page),
            uow=self.uow(),
            actor=current_identity(),
        )
        return inbox_to_pb(inbox)

    async def SeedDemoComplaints(
        self, request: pb.SeedDemoComplaintsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SeedDemoComplaintsResponse:
        cmd = handlers.SeedDemoComplaints(
            government_code=request.government_code,
            months=request.months or 12,
            per_month=request.per_month or 2000,
            seed=request.seed or 33,
        )
        added = await self.db.run(
            handlers.seed_demo_complaints, cmd, uow=self.uow(), sla=self.sla, actor=current_identity()
        )
        return pb.SeedDemoComplaintsResponse(added=added)
