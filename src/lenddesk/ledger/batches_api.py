"""HTTP API of bulk repayment files: upload a CSV (admin or a channel key), read its result file."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from lenddesk.core import auth
from lenddesk.core.calendar import business_today
from lenddesk.core.errors import BadRequest, NotFound
from lenddesk.core.http import errors
from lenddesk.ledger.schemas import RepaymentBatchOut
from lenddesk.ledger.service import batches

MAX_FILE_BYTES = 32 * 1024 * 1024  # about 300,000 lines

router = APIRouter(prefix="/api/v1/ledger/repayment-batches", tags=["ledger"])


@router.post(
    "",
    response_model=RepaymentBatchOut,
    status_code=201,
    summary="Import a repayment file (CSV: direct-debit returns, bank statement lines)",
    responses=errors(400, 401, 403, 422),
)
async def import_repayment_file(
    request: Request,
    channel: str = Query("auto_debit", max_length=16, description="the channel every line came by"),
    filename: str = Query("", max_length=255),
    caller: auth.ChannelCaller = Depends(auth.channel_or_admin),
) -> RepaymentBatchOut:
    """The body is the CSV itself (header: reference, contract_number, amount, value_date). The lines
    are applied in chunks, each committed with its results: a request cut off is finished by sending
    the same file again, which resumes its batch (200 … the same batch id)."""
    content = await request.body()
    if len(content) > MAX_FILE_BYTES:
        raise BadRequest(
            f"文件过大（上限 {MAX_FILE_BYTES // 1024 // 1024} MB），请分批上传",
            f"The file is too large (at most {MAX_FILE_BYTES // 1024 // 1024} MB); split it",
            code="batch_file_too_large",
        )
    outcome = await run_in_threadpool(
        batches.import_batch,
        request.app.state.session_factory,
        actor=caller.actor,
        channel=channel,
        content=content,
        today=business_today(),
        filename=filename,
    )
    return RepaymentBatchOut(
        batch_id=outcome.batch_id,
        lines=outcome.lines,
        resumed=outcome.resumed,
        counts=outcome.counts,
        results_url=f"/api/v1/ledger/repayment-batches/{outcome.batch_id}/results",
    )


@router.get(
    "/{batch_id}/results",
    summary="The batch's result file (CSV): each line applied, duplicate or refused with its reason",
    response_class=Response,
    responses=errors(401, 403, 404, 422),
)
async def repayment_file_results(
    batch_id: int, request: Request, caller: auth.ChannelCaller = Depends(auth.channel_or_admin)
) -> Response:
    def read() -> str:
        with request.app.state.session_factory() as session:
            if batches.find_batch(session, batch_id) is None:
                raise NotFound(
                    f"批次不存在：{batch_id}", f"No such batch: {batch_id}", code="batch_not_found"
                )
            return batches.results_csv(batches.batch_results(session, batch_id))

    body = await run_in_threadpool(read)
    return Response(body, media_type="text/csv; charset=utf-8")
