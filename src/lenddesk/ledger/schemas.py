"""Request and response models of the ledger API. Amounts are yuan strings; rates are decimals."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lenddesk.core.money import YuanIn, YuanOut

Channel = Literal["bank_transfer", "mobile_banking", "wechat_pay", "alipay", "auto_debit", "counter"]
Kind = Literal["regular", "early_partial", "early_full"]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def fen(name: str) -> Any:
    """A yuan-string response field read from the `<name>_fen` attribute."""
    return Field(validation_alias=f"{name}_fen")


# --- requests -------------------------------------------------------------------------------------


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    relation: str
    name: str = Field(min_length=1, max_length=64)
    mobile: str


class BorrowerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    id_number: str
    mobile: str
    email: str | None = None
    address: str | None = Field(default=None, max_length=255)
    employer: str | None = Field(default=None, max_length=128)
    preferred_channel: str | None = Field(default=None, max_length=16)
    preferred_contact_time: str | None = Field(default=None, max_length=32)
    contacts: list[ContactIn] = Field(default_factory=list)


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=64)
    annual_rate: Decimal
    term: int
    method: str
    grace_days: int = 3
    penalty_mode: Literal["daily", "multiple"] = "daily"
    penalty_daily_rate: Decimal = Decimal("0.0005")
    penalty_multiple: Decimal = Decimal("1.5")
    late_fee_fixed: YuanIn = 0
    late_fee_percent: Decimal = Decimal(0)
    allocation_order: str = "penalty,late_fee,interest,principal"
    annual_cost_cap: Decimal = Decimal("0.24")
    early_repayment_fee_percent: Decimal = Decimal(0)


class LoanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    borrower_id: int
    product_code: str
    principal: YuanIn
    disbursed_on: date
    first_due_on: date | None = None
    annual_rate: Decimal | None = None
    term: int | None = None
    contract_number: str | None = Field(default=None, max_length=32)


class RepaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contract_number: str
    channel: Channel
    external_reference: str = Field(min_length=1, max_length=64)
    amount: YuanIn
    value_date: date
    kind: Kind = "regular"


class ReversalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=255)


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=255)


class RecoveryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contract_number: str = Field(min_length=1, max_length=32)
    channel: Channel
    external_reference: str = Field(min_length=1, max_length=64)
    amount: YuanIn
    value_date: date


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: YuanIn
    reference: str = Field(min_length=1, max_length=64, description="idempotency key of this request")
    reason: str = Field(min_length=1, max_length=255)


class WaiverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    component: Literal["penalty", "late_fee", "interest"]
    amount: YuanIn
    reason: str = Field(min_length=1, max_length=255)


# --- responses ------------------------------------------------------------------------------------


class BorrowerHitOut(Out):
    id: int
    name: str
    id_number: str
    mobile: str
    email: str | None = None
    contracts: list[str]


class BorrowerOut(Out):
    id: int
    name: str


class ContactOut(Out):
    id: int
    relation: str
    name: str
    mobile: str
    is_third_party: bool


class ProductOut(Out):
    id: int
    code: str
    name: str
    annual_rate: Decimal
    term: int
    method: str


class LineOut(Out):
    period: int
    due_on: date
    principal: YuanOut = fen("principal")
    interest: YuanOut = fen("interest")
    penalty: YuanOut = fen("penalty")
    late_fee: YuanOut = fen("late_fee")
    total: YuanOut = fen("total")
    paid: YuanOut = fen("paid")
    waived: YuanOut = fen("waived")
    outstanding: YuanOut = fen("outstanding")
    state: str
    paid_off_on: date | None


class RepaymentOut(Out):
    id: int
    contract_number: str | None = None
    channel: str
    external_reference: str
    amount: YuanOut = fen("amount")
    value_date: date
    kind: str
    status: str
    posted_by: str
    allocation: list[dict[str, Any]] | None
    reversal_reason: str | None
    reversal_requested_by: str | None
    reversal_approved_by: str | None
    duplicate: bool = False


class BucketChangeOut(Out):
    business_date: date
    from_bucket: str
    to_bucket: str
    days_past_due: int


class RecoveryOut(Out):
    id: int
    contract_number: str | None = None
    channel: str
    external_reference: str
    amount: YuanOut = fen("amount")
    value_date: date
    posted_by: str
    duplicate: bool = False


class RefundOut(Out):
    id: int
    reference: str
    amount: YuanOut = fen("amount")
    reason: str
    status: str
    requested_by: str
    decided_by: str | None
    duplicate: bool = False


class WaiverOut(Out):
    id: int
    component: str
    amount: YuanOut = fen("amount")
    reason: str
    status: str
    requested_by: str
    approved_by: str | None
    applied_on: date | None


class RecoveryBookOut(Out):
    written_off_loans: int
    loans_with_recoveries: int
    recoveries: int
    recovered: YuanOut = fen("recovered")


class CostOut(Out):
    """The cost cap and the annualised rate of the loan's cash flows (docs/LEDGER.md, "Cost cap")."""

    annual_cost_cap: Decimal = Field(description="The cap that applies: the product's, at most the legal one")
    cost_charged: YuanOut = Field(
        validation_alias="cost_charged_fen",
        description="Interest fallen due + penalties + late fees + early repayment fees",
    )
    cost_cap: YuanOut = Field(
        validation_alias="cost_cap_fen",
        description="The cap on the principal actually outstanding day by day up to today",
    )
    cost_cap_room: YuanOut = Field(
        validation_alias="cost_cap_room_fen", description="What may still be charged today"
    )
    irr_annual_rate: Decimal | None = Field(
        description="Annualised rate of the actual cash flows by the IRR method (daily rate × 365);"
        " the rest of the schedule as projected; null when not defined"
    )


class LoanOut(Out):
    id: int
    contract_number: str
    borrower_id: int
    product_code: str
    product_name: str
    principal: YuanOut = fen("principal")
    annual_rate: Decimal
    term: int
    method: str
    disbursed_on: date
    status: str
    bucket: str
    days_past_due: int
    outstanding_principal: YuanOut = fen("outstanding_principal")
    credit_balance: YuanOut = fen("credit_balance")
    overdue: YuanOut = fen("overdue")
    next_due_on: date | None
    next_due: YuanOut = fen("next_due")
    settled_on: date | None
    certificate_number: str | None
    lines: list[LineOut]
    repayments: list[RepaymentOut]
    bucket_history: list[BucketChangeOut]
    recovered: YuanOut = fen("recovered")
    recoveries: list[RecoveryOut] = Field(default_factory=list)
    refunds: list[RefundOut] = Field(default_factory=list)
    waivers: list[WaiverOut] = Field(default_factory=list)
    cost: CostOut | None = None


class Borrower360Out(Out):
    id: int
    name: str
    id_number: str
    mobile: str
    email: str | None
    address: str | None
    employer: str | None
    preferred_channel: str | None
    preferred_contact_time: str | None
    full_pii: bool
    overdue: YuanOut = fen("overdue")
    outstanding_principal: YuanOut = fen("outstanding_principal")
    contacts: list[ContactOut]
    loans: list[LoanOut]


class SettlementQuoteOut(Out):
    on: date
    overdue: YuanOut = fen("overdue")
    accrued_interest: YuanOut = fen("accrued_interest")
    principal: YuanOut = fen("principal")
    carried_fees: YuanOut = fen("carried_fees")  # penalties and late fees on instalments not yet due
    fee: YuanOut = fen("fee")
    credit: YuanOut = fen("credit")
    interest_saved: YuanOut = fen("interest_saved")
    total: YuanOut = fen("total")


class ScheduleLineOut(Out):
    period: int
    due_date: date = Field(validation_alias="due_on")
    principal: YuanOut = fen("principal")
    interest: YuanOut = fen("interest")
    total: YuanOut = fen("total")
    remaining: YuanOut = fen("remaining")


class PartialQuoteOut(Out):
    prepaid_principal: YuanOut = fen("prepaid_principal")
    fee: YuanOut = fen("fee")
    total: YuanOut = fen("total")
    interest_saved: YuanOut = fen("interest_saved")
    new_lines: list[ScheduleLineOut]


class QuoteOut(BaseModel):
    contract_number: str
    settlement: SettlementQuoteOut
    partial: PartialQuoteOut | None = None


class CertificateOut(Out):
    number: str
    contract_number: str
    borrower_name: str
    borrower_id_number: str
    principal: YuanOut = fen("principal")
    disbursed_on: date
    settled_on: date
    total_paid: YuanOut = fen("total_paid")
    issued_at: datetime


class CalculatorScheduleOut(Out):
    lines: list[ScheduleLineOut]
    total_interest: YuanOut = fen("total_interest")
    total: YuanOut = fen("total")


class CalculatorEarlyOut(BaseModel):
    on: date
    paid_instalments: int
    settlement: SettlementQuoteOut
    partial: PartialQuoteOut | None = None
    total: YuanOut


class RepaymentBatchOut(BaseModel):
    """What a repayment file import did: counts of its lines by result, and where the result file is."""

    batch_id: int
    lines: int
    resumed: bool
    counts: dict[str, int]
    results_url: str
