"""AWS error responses in the two wire protocols the stand-in speaks."""

from __future__ import annotations

from starlette.responses import JSONResponse


class ServiceError(Exception):
    """An error the real service would return; rendered in the caller's protocol."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def rest_json_error(error: ServiceError) -> JSONResponse:
    # botocore's rest-json parser takes the code from the x-amzn-ErrorType header.
    return JSONResponse(
        {"message": error.message},
        status_code=error.status,
        headers={"x-amzn-ErrorType": f"{error.code}:http://internal.amazon.com/coral/com.amazon.bedrock/"},
    )


def json_rpc_error(error: ServiceError) -> JSONResponse:
    # JSON 1.1 (Comprehend): the code travels in the body's __type.
    return JSONResponse(
        {"__type": error.code, "Message": error.message},
        status_code=error.status,
        media_type="application/x-amz-json-1.1",
    )
