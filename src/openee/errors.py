"""The error hierarchy. One root; subclasses named after google.rpc codes.

Nothing here imports a web framework: the API layer turns any `OpeneeError` into Google's error
envelope `{"error": {"code", "message", "status"}}`.
"""

from __future__ import annotations


class OpeneeError(Exception):
    """Root of every error openee reports to a client."""

    http_status = 500
    rpc_status = "INTERNAL"
    # Whether the message already names the algorithm it came from ("Image.select: ...").
    prefixed = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def in_algorithm(self, name: str) -> OpeneeError:
        """Name the algorithm in the message, once: the innermost algorithm wins."""
        if not self.prefixed:
            self.message = f"{name}: {self.message}"
            self.args = (self.message,)
            self.prefixed = True
        return self

    def envelope(self) -> dict[str, dict[str, object]]:
        return {
            "error": {"code": self.http_status, "message": self.message, "status": self.rpc_status}
        }


class InvalidArgumentError(OpeneeError):
    http_status = 400
    rpc_status = "INVALID_ARGUMENT"


class FailedPreconditionError(OpeneeError):
    http_status = 400
    rpc_status = "FAILED_PRECONDITION"


class UnauthenticatedError(OpeneeError):
    http_status = 401
    rpc_status = "UNAUTHENTICATED"


class PermissionDeniedError(OpeneeError):
    http_status = 403
    rpc_status = "PERMISSION_DENIED"


class NotFoundError(OpeneeError):
    http_status = 404
    rpc_status = "NOT_FOUND"


class AlreadyExistsError(OpeneeError):
    http_status = 409
    rpc_status = "ALREADY_EXISTS"


class ResourceExhaustedError(OpeneeError):
    http_status = 429
    rpc_status = "RESOURCE_EXHAUSTED"


class InternalError(OpeneeError):
    http_status = 500
    rpc_status = "INTERNAL"


class UnimplementedError(OpeneeError):
    http_status = 501
    rpc_status = "UNIMPLEMENTED"


class UnavailableError(OpeneeError):
    http_status = 503
    rpc_status = "UNAVAILABLE"


class DeadlineExceededError(OpeneeError):
    http_status = 504
    rpc_status = "DEADLINE_EXCEEDED"


# Leaves that say what happened.


class UnknownAlgorithmError(InvalidArgumentError):
    def __init__(self, name: str) -> None:
        super().__init__(f"Unknown algorithm: '{name}'.")


class AlgorithmNotServedError(UnimplementedError):
    """An Earth Engine algorithm that openee lists (so the stock client can build its method and
    the user gets this message instead of a client-side AttributeError) but does not serve yet."""

    def __init__(self, name: str, reason: str | None = None) -> None:
        if reason:
            super().__init__(
                f"{name}: this Earth Engine algorithm is not served by openee: {reason}"
            )
        else:
            super().__init__(
                f"{name}: this Earth Engine algorithm is not implemented in openee yet "
                "(see the README's table of supported algorithms)."
            )


class BandNotFoundError(InvalidArgumentError):
    pass


class AssetNotFoundError(NotFoundError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"Asset '{name}' not found (does not exist or caller does not have access)."
        )


class GridTooLargeError(InvalidArgumentError):
    pass
