"""The gRPC side of every service: server bootstrap, interceptors and error mapping.

One interceptor does, for every application call: verify the caller's token and make the
identity current; bound the call by its deadline (or a server default when the client set
none); turn a DomainError into its status code with `google.rpc` details; never let a
user's mistake surface as UNKNOWN. The standard health service starts NOT_SERVING and is
switched by the runtime; reflection is on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status
from opentelemetry.instrumentation.grpc import aio_server_interceptor
from sqlalchemy import exc as sa_exc

from grms_kit.errors import (
    AlreadyExists,
    Conflict,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
)
from grms_kit.identity import ANONYMOUS, Identity, TokenCodec, _current, use_identity

__all__ = ["GrpcServer", "PortInUse", "ServiceInterceptor", "error_status", "status_of"]

log = logging.getLogger(__name__)

_CODES: list[tuple[type[DomainError], int]] = [
    (InvalidArgument, code_pb2.INVALID_ARGUMENT),
    (NotFound, code_pb2.NOT_FOUND),
    (AlreadyExists, code_pb2.ALREADY_EXISTS),
    (FailedPrecondition, code_pb2.FAILED_PRECONDITION),
    (Conflict, code_pb2.ABORTED),
    (PermissionDenied, code_pb2.PERMISSION_DENIED),
    (Unauthenticated, code_pb2.UNAUTHENTICATED),
    (ResourceExhausted, code_pb2.RESOURCE_EXHAUSTED),
]


_STATUS_CODES = {code.value[0]: code for code in grpc.StatusCode}


class PortInUse(Exception):
    """The gRPC port is taken by another process."""


def status_of(exc: DomainError) -> status_pb2.Status:
    """The google.rpc.Status for a DomainError, with BadRequest field violations if any."""
    code = next((c for cls, c in _CODES if isinstance(exc, cls)), code_pb2.FAILED_PRECONDITION)
    status = status_pb2.Status(code=code, message=exc.message)
    if isinstance(exc, InvalidArgument) and exc.violations:
        detail = any_pb2.Any()
        detail.Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                    for v in exc.violations
                ]
            )
        )
        status.details.append(detail)
    return status


def error_status(exc: BaseException, method: str) -> status_pb2.Status:
    """The google.rpc.Status a failed call of `method` answers with (logged when it is not the caller's doing).

    Also what a batch RPC answers for each item that failed, so one item fails as it would alone.
    """
    if isinstance(exc, DomainError):
        return status_of(exc)
    if isinstance(exc, TimeoutError):
        return status_pb2.Status(code=code_pb2.DEADLINE_EXCEEDED, message="the call ran out of time")
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)):
        log.warning("%s: database unavailable: %s", method, exc)
        return status_pb2.Status(
            code=code_pb2.UNAVAILABLE, message="the service's database is unavailable; retry later"
        )
    log.exception("%s failed", method, exc_info=exc)
    return status_pb2.Status(code=code_pb2.INTERNAL, message="internal error")


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    """Identity, deadline and error mapping for every application RPC."""

    def __init__(self, codec: TokenCodec, *, default_timeout: float = 30.0) -> None:
        self.codec = codec
        self.default_timeout = default_timeout

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or details.method.startswith("/grpc."):
            return handler
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, details.method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(handler.unary_stream, details.method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    def _identity(self, context: grpc.aio.ServicerContext) -> Identity:
        for key, value in context.invocation_metadata() or ():
            if key == "authorization":
                scheme, _, token = str(value).partition(" ")
                if scheme.lower() != "bearer" or not token:
                    raise Unauthenticated("authorization metadata must be 'Bearer <token>'")
                return self.codec.verify(token)
        return ANONYMOUS

    def _timeout(self, context: grpc.aio.ServicerContext) -> float:
        remaining = context.time_remaining()
        return self.default_timeout if remaining is None else min(remaining, self.default_timeout)

    async def _fail(self, context: grpc.aio.ServicerContext, method: str, exc: BaseException) -> None:
        status = error_status(exc, method)
        if isinstance(exc, DomainError):
            await context.abort_with_status(rpc_status.to_status(status))
        await context.abort(_STATUS_CODES[status.code], status.message)

    def _unary(self, behavior: Callable[..., Awaitable[Any]], method: str) -> Callable[..., Awaitable[Any]]:
        async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started = time.perf_counter()
            token = None
            try:
                token = use_identity(self._identity(context))
                async with asyncio.timeout(self._timeout(context)):
                    return await behavior(request, context)
            except grpc.aio.AbortError:
                raise
            except BaseException as exc:
                if isinstance(exc, asyncio.CancelledError):
                    raise
                await self._fail(context, method, exc)
            finally:
                if token is not None:
                    _current.reset(token)
                log.debug("rpc %s took %.1f ms", method, (time.perf_counter() - started) * 1000)

        return call

    def _stream(self, behavior: Callable[..., AsyncIterator[Any]], method: str) -> Callable[..., AsyncIterator[Any]]:
        async def call(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            token = None
            try:
                token = use_identity(self._identity(context))
                async with asyncio.timeout(self._timeout(context)):
                    async for item in behavior(request, context):
                        yield item
            except grpc.aio.AbortError:
                raise
            except BaseException as exc:
                if isinstance(exc, (asyncio.CancelledError, GeneratorExit)):
                    raise
                await self._fail(context, method, exc)
            finally:
                if token is not None:
                    _current.reset(token)

        return call


Registrar = Callable[[Any, grpc.aio.Server], None]


class GrpcServer:
    """A grpc.aio server with health, reflection and the GRMS interceptors."""

    def __init__(
        self,
        address: str,
        services: Sequence[tuple[Registrar, Any, str]],
        codec: TokenCodec,
        *,
        default_timeout: float = 30.0,
    ) -> None:
        """`services` holds (add_XServicer_to_server, servicer, full service name) triples."""
        self.address = address
        self.server = grpc.aio.server(
            interceptors=[aio_server_interceptor(), ServiceInterceptor(codec, default_timeout=default_timeout)],
            options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 16 * 1024 * 1024)],
        )
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.names = [name for _, _, name in services]
        for register, servicer, _ in services:
            register(servicer, self.server)
        reflection.enable_server_reflection(
            [*self.names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
            self.server,
        )
        self.port = 0

    async def start(self) -> None:
        """Bind and start serving (health NOT_SERVING until `set_serving(True)`)."""
        try:
            self.port = self.server.add_insecure_port(self.address)
        except RuntimeError as exc:
            raise PortInUse(f"cannot listen on {self.address}: the port is in use or not available") from exc
        if self.port == 0:
            raise PortInUse(f"cannot listen on {self.address}: the port is in use or not available")
        await self.set_serving(False)
        await self.server.start()

    async def set_serving(self, serving: bool, *, service: str | None = None) -> None:
        """Report SERVING or NOT_SERVING, for the whole server and each application service."""
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in [service] if service is not None else ["", *self.names]:
            await self.health.set(name, status)

    async def stop(self, grace: float, *, propagation: float = 0.2) -> None:
        """Graceful shutdown: NOT_SERVING first, a moment for probes to see it, then stop."""
        await self.health.enter_graceful_shutdown()
        await asyncio.sleep(propagation)
        await self.server.stop(grace)
