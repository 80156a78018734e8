"""The staff dashboard: a small server-rendered Starlette app over the use-case layer.

Every page and file is behind the login gate (security.LoginGate); every
POST goes through `checked_form` (CSRF token + Origin). Staff actions are
two-step without JavaScript: the first POST validates and shows a
confirmation page, the second (with `confirmed=1`) calls `Office`, which
records the decision with who and when. Office calls run in the thread
pool: they touch the database and, for reminders, the mail transport.
"""
from __future__ import annotations

import datetime as dt
import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlencode

from jinja2 import Environment
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from intake.parsers.errors import IntakeError, UsageError
from intake.parsers.vietnamese import fold
from intake.processor.catalog import NO_CAMPAIGN, Catalog
from intake.processor.config import Config
from intake.processor.i18n import in_english
from intake.processor.staff.export import EXPORTERS
from intake.processor.staff.report import REVIEW, staff_note
from intake.processor.times import deadline_time, local_time, zone_words
from intake.processor.web import render
from intake.processor.web.accounts import LoginResult, Logins
from intake.processor.web.security import (
    CSRF_FIELD,
    checked_form,
    csrf_token,
    new_csrf_token,
    safe_next,
)
from intake.store.kinds import DecisionKind, UnitState
from intake.store.status import CampaignStatus, UnitStatus
from intake.store.users import Accounts
from intake.store.views import DecisionView

if TYPE_CHECKING:
    from intake.processor.services import DecisionView, MessageView, Office

log = logging.getLogger(__name__)

T = TypeVar("T")
PAST_EXTENSION = ("Thời điểm này đã qua: ghi nhận là gia hạn sau (ví dụ đã đồng ý qua điện thoại); "
                  "báo cáo nhận trước thời điểm đó được tính là đúng hạn.")
SESSION_COOKIE = "intake_session"
SESSION_HOURS = 12
REFERENCE_RE = re.compile(r"^[A-Z]{1,5}\d{2}-\d{3,}$", re.IGNORECASE)
SORTS: dict[str, Callable[[UnitStatus], Any]] = {
    "name": lambda u: fold(u.name),
    "status": lambda u: list(UnitState).index(u.status),
    "received": lambda u: (u.received_at is None, u.received_at or dt.datetime.min.replace(tzinfo=dt.UTC)),
    "submissions": lambda u: u.submissions,
    "group": lambda u: (u.group, fold(u.name)),
}
DOWNLOAD_TYPES = {".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                  ".doc": "application/msword", ".pdf": "application/pdf", ".xlsx":
                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".csv": "text/csv",
                  ".html": "text/html", ".zip": "application/zip"}
REPORT_SUFFIXES = (".docx", ".doc", ".docm", ".rtf", ".odt")


class FormProblem(IntakeError):
    """A staff form filled in wrongly: shown back in Vietnamese, status 400."""


# -- small helpers ---------------------------------------------------------------


def safe_filename(name: str, fallback: str = "tep") -> str:
    """A file name without any path, control or reserved character (NFC, at most 150 characters)."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join("_" if unicodedata.category(c)[0] == "C" or c in '<>:"|?*' else c for c in name)
    name = " ".join(name.split()).strip(" .")
    return name[:150] or fallback


def attachment_response(data: bytes, filename: str) -> Response:
    """Bytes as a download under `filename`: never shown inline, never sniffed."""
    name = safe_filename(filename)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", ascii_name).strip() or "tep"
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
    return Response(data, media_type=DOWNLOAD_TYPES.get(suffix, "application/octet-stream"),
                    headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"})


def text_field(form: FormData, name: str, *, required: str | None = None, limit: int = 500) -> str:
    value = form.get(name)
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if required and not text:
        raise FormProblem(required)
    if len(text) > limit:
        raise FormProblem(f"Nội dung quá dài (tối đa {limit} ký tự).")
    return text


def message_ref(m: Any) -> str:
    """How a message is named in URLs: its reference number, else its Message-ID."""
    return str(getattr(m, "reference", None) or m.message_id)


@dataclass
class Dashboard:
    cfg: Config
    office: Office
    accounts: Accounts
    logins: Logins
    clock: Callable[[], dt.datetime]
    env: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.env = render.environment(self.cfg.timezone, self.cfg.group_label)
        self.env.globals["ref_of"] = message_ref
        self.env.globals["note"] = lambda unit: staff_note(unit, self.cfg.timezone)
        self.env.globals["url"] = lambda path, **q: path + ("?" + urlencode({k: v for k, v in q.items() if v})
                                                            if any(q.values()) else "")

    # -- rendering -------------------------------------------------------------

    def page(self, request: Request, template: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        ctx.setdefault("campaign_id", None)
        if "campaigns" not in ctx:  # a page that read the catalog in its snapshot gives them
            ctx["campaigns"] = self.office.catalog().campaigns
        html = self.env.get_template(template).render(
            request=request, user=request.scope.get("user_name"), csrf=csrf_token(request),
            flash=request.session.pop("flash", None),
            zone=zone_words(self.cfg.timezone, self.clock()), now=self.clock(), **ctx)
        return HTMLResponse(html, status_code=status_code)

    def problem(self, request: Request, message: str, status_code: int = 400, back: str = "/") -> HTMLResponse:
        return self.page(request, "error.html.j2", status_code=status_code, message=message, back=back)

    def confirm(self, request: Request, *, title: str, lines: list[str], action: str, fields: Mapping[str, str],
                button: str, back: str, danger: bool = False, body: str = "") -> HTMLResponse:
        return self.page(request, "confirm.html.j2", title=title, lines=lines, action=action, body=body,
                         fields={k: v for k, v in fields.items() if k != CSRF_FIELD}, button=button, back=back,
                         danger=danger)

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await run_in_threadpool(fn, *args, **kwargs)

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`call` for what a page reads: in one read transaction (one snapshot, no write lock)."""
        def in_snapshot() -> T:
            with self.office.snapshot():
                return fn(*args, **kwargs)

        return await run_in_threadpool(in_snapshot)

    def campaign_id(self, chosen: str | None, catalog: Catalog | None = None) -> str:
        """The campaign asked for, else the latest one that has opened, else the first (of `catalog`
        when the caller has read it)."""
        campaigns = (catalog or self.office.catalog()).campaigns
        ids = [c.id for c in campaigns]
        if chosen in ids:
            return str(chosen)
        if not ids:
            raise UsageError(NO_CAMPAIGN)
        now = self.clock()
        opened = [c for c in campaigns if c.opens <= now]
        return max(opened, key=lambda c: c.opens).id if opened else ids[0]

    def actor(self, request: Request) -> str:
        return str(request.scope["user_name"])

    # -- login -----------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        if request.session.get("user") and await self.call(self.accounts.exists, request.session["user"]):
            return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
        return self.page(request, "login.html.j2", next=safe_next(request.query_params.get("next")), error=None)

    async def login(self, request: Request) -> Response:
        form = await checked_form(request, self.cfg.web.base_url)
        name = text_field(form, "name", limit=100)
        password = form.get("password")
        target = safe_next(text_field(form, "next", limit=2000))
        address = request.client.host if request.client else "-"
        result, account = await self.call(self.logins.login, name, password if isinstance(password, str) else "",
                                          address)
        if result is LoginResult.OK:
            request.session.clear()
            request.session.update({"user": account, CSRF_FIELD: new_csrf_token()})
            return RedirectResponse(target, status_code=303)
        error, code = (("Đăng nhập sai quá nhiều lần. Hãy thử lại sau 15 phút.", 429)
                       if result is LoginResult.THROTTLED else ("Tên đăng nhập hoặc mật khẩu không đúng.", 401))
        return self.page(request, "login.html.j2", status_code=code, next=target, error=error, name=name)

    async def logout(self, request: Request) -> Response:
        await checked_form(request, self.cfg.web.base_url)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # -- pages -----------------------------------------------------------------

    async def overview(self, request: Request) -> Response:
        q = request.query_params

        def reads() -> tuple[Catalog, str, CampaignStatus]:
            catalog = self.office.catalog()
            camp = self.campaign_id(q.get("campaign"), catalog)
            return catalog, camp, self.office.status(camp, catalog)

        catalog, camp, status = await self.read(reads)
        units = list(status.units)
        state, group, text = q.get("status", ""), q.get("group", ""), q.get("q", "").strip()
        if state == "review":
            units = [u for u in units if needs_review(u)]
        elif state in {s.value for s in UnitState}:
            units = [u for u in units if u.status.value == state]
        if group:
            units = [u for u in units if u.group == group]
        if text:
            key = fold(text)
            units = [u for u in units if key in fold(u.name) or key in fold(u.id)]
        sort = q.get("sort", "")
        if sort in SORTS:
            units.sort(key=SORTS[sort], reverse=q.get("order") == "desc")
        groups = sorted({u.group for u in status.units if u.group})
        return self.page(request, "overview.html.j2", status=status, units=units, counts=status.counts(),
                         campaign_id=camp, campaigns=catalog.campaigns, groups=groups, states=list(UnitState),
                         f_status=state, f_group=group,
                         f_q=text, sort=sort, order=q.get("order", ""), review=sum(map(needs_review, status.units)))

    async def search(self, request: Request) -> Response:
        text = request.query_params.get("q", "").strip()
        camp = request.query_params.get("campaign", "")
        if not text:
            return RedirectResponse("/", status_code=303)
        if REFERENCE_RE.match(text) or "@" in text or text.startswith("<"):
            return RedirectResponse("/messages?" + urlencode({"ref": text}), status_code=303)
        try:
            unit_id = await self.call(self.office.resolve_unit, text)
        except IntakeError:
            return RedirectResponse("/?" + urlencode({"q": text, "campaign": camp}), status_code=303)
        return RedirectResponse(f"/units/{quote(unit_id)}" + (f"?campaign={quote(camp)}" if camp else ""),
                                status_code=303)

    async def unit(self, request: Request) -> Response:
        unit_id = request.path_params["unit_id"]

        def reads() -> tuple[Catalog, str, CampaignStatus | None, list[MessageView], list[DecisionView]]:
            catalog = self.office.catalog()
            camp = self.campaign_id(request.query_params.get("campaign"), catalog)
            if catalog.unit(unit_id) is None:
                return catalog, camp, None, [], []
            return (catalog, camp, self.office.status(camp, catalog), self.office.unit_messages(unit_id),
                    self.office.decisions(None))

        catalog, camp, status, messages, every = await self.read(reads)
        known = {u.id: u for u in catalog.units}
        if status is None:
            return self.problem(request, "Không có đơn vị này trong danh sách.", 404)
        row = next((u for u in status.units if u.id == unit_id), None)
        decisions = [d for d in every if d.unit_id == unit_id]
        return self.page(request, "unit.html.j2", unit=known[unit_id], row=row, messages=messages,
                         decisions=decisions, campaign_id=camp, campaigns=catalog.campaigns, expected=row is not None)

    async def message(self, request: Request) -> Response:
        ref = request.query_params.get("ref", "").strip()
        if not ref:
            return RedirectResponse("/", status_code=303)
        try:
            view = await self.read(self.office.show, ref)
        except IntakeError:
            return self.problem(request, f"Không tìm thấy thư có số tiếp nhận hoặc Message-ID “{ref}”.", 404)
        texts = await self.call(self.office.candidate_texts, ref) if view.section and view.section.candidates else []
        return self.page(request, "message.html.j2", m=view, ref=message_ref(view), candidate_texts=texts,
                         campaign_id=self.campaign_id(view.campaign_id))

    async def attachment(self, request: Request) -> Response:
        ref = request.query_params.get("ref", "")
        try:
            position = int(request.query_params.get("n", ""))
            found = await self.read(self.office.attachment, ref, position)
        except (ValueError, IntakeError):
            return self.problem(request, "Không tìm thấy tệp đính kèm này.", 404)
        return attachment_response(found.data, found.filename)

    async def unmatched(self, request: Request) -> Response:
        def reads() -> tuple[Catalog, str, CampaignStatus]:
            catalog = self.office.catalog()
            camp = self.campaign_id(request.query_params.get("campaign"), catalog)
            return catalog, camp, self.office.status(camp, catalog)

        catalog, camp, status = await self.read(reads)
        units = sorted(catalog.units, key=lambda u: fold(u.name))
        return self.page(request, "unmatched.html.j2", messages=status.unmatched, units=units, campaign_id=camp,
                         campaigns=catalog.campaigns)

    async def decisions(self, request: Request) -> Response:
        camp = self.campaign_id(request.query_params.get("campaign"))
        rows = await self.read(self.office.decisions, None)  # links have no campaign: show every decision
        return self.page(request, "decisions.html.j2", decisions=sorted(rows, key=lambda d: d.decided_at,
                                                                        reverse=True), campaign_id=camp)

    async def downloads(self, request: Request) -> Response:
        camp = self.campaign_id(request.query_params.get("campaign"))
        return self.page(request, "downloads.html.j2", campaign_id=camp)

    async def export(self, request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in EXPORTERS:
            return self.problem(request, "Không có định dạng này.", 404)
        camp = self.campaign_id(request.query_params.get("campaign"))
        data = await self.read(self.office.export, camp, fmt)
        return attachment_response(data, f"{camp}.{fmt}")

    async def reports_zip(self, request: Request) -> Response:
        camp = self.campaign_id(request.query_params.get("campaign"))
        data = await self.read(self._reports_zip, camp)
        return attachment_response(data, f"{camp}-bao-cao.zip")

    def _reports_zip(self, camp: str) -> bytes:
        """Every unit's latest report, named by roster position and unit (never the sender's name)."""
        status: CampaignStatus = self.office.status(camp)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for i, unit in enumerate(status.units, start=1):
                latest = unit.latest
                if latest is None or not latest.has_report:
                    continue
                ref = message_ref(latest)
                view = self.office.show(ref)
                report = next((a for a in view.attachments if a.is_report), None)
                if report is None:
                    continue
                found = self.office.attachment(ref, report.position)
                suffix = "." + report.filename.rsplit(".", 1)[-1].lower() if "." in report.filename else ""
                name = f"{i:02d} {safe_filename(unit.name, unit.id)}{suffix if suffix in REPORT_SUFFIXES else ''}"
                zf.writestr(name, found.data)
        return out.getvalue()

    # -- staff actions (two steps: validate + confirm, then do) ------------------

    async def act(self, request: Request, step: Callable[[Request, FormData, bool], Awaitable[Response]],
                  back: str) -> Response:
        form = await checked_form(request, self.cfg.web.base_url)
        try:
            return await step(request, form, form.get("confirmed") == "1")
        except FormProblem as exc:
            return self.problem(request, str(exc), 400, back=back)
        except IntakeError as exc:  # UsageError from Office: unknown unit, past date, already revoked ...
            log.info("staff action refused: %s", in_english(exc))
            return self.problem(request, f"Không thực hiện được: {exc}", 400, back=back)

    def done(self, request: Request, message: str, target: str) -> Response:
        request.session["flash"] = message
        return RedirectResponse(target, status_code=303)

    async def excuse(self, request: Request) -> Response:
        unit_id = request.path_params["unit_id"]

        async def step(request: Request, form: FormData, confirmed: bool) -> Response:
            camp = self.campaign_id(text_field(form, "campaign"))
            reason = text_field(form, "reason", required="Hãy ghi lý do miễn nộp.")
            back = f"/units/{quote(unit_id)}?campaign={quote(camp)}"
            if not confirmed:
                return self.confirm(request, title="Xác nhận miễn nộp", lines=[
                    f"Đơn vị: {self.unit_name(unit_id)}", f"Đợt: {self.campaign_title(camp)}", f"Lý do: {reason}"],
                    action=request.url.path, fields={"campaign": camp, "reason": reason},
                    button="Miễn nộp", back=back)
            decision = await self.call(self.office.excuse, unit_id, camp, reason, self.actor(request))
            return self.done(request, f"Đã miễn nộp cho {self.unit_name(unit_id)}." + self.repeats(decision), back)

        return await self.act(request, step, f"/units/{quote(unit_id)}")

    async def extend(self, request: Request) -> Response:
        unit_id = request.path_params["unit_id"]

        async def step(request: Request, form: FormData, confirmed: bool) -> Response:
            from intake.processor.staff_dates import parse_staff_datetime

            camp = self.campaign_id(text_field(form, "campaign"))
            typed = text_field(form, "until", required="Hãy nhập hạn mới, ví dụ 05/03/2024 17:00.")
            try:
                until, _end_of_day = parse_staff_datetime(typed, self.cfg.timezone, self.clock())
            except IntakeError as exc:
                raise FormProblem(f"Không hiểu ngày “{typed}”: hãy nhập dd/mm/yyyy hh:mm.") from exc
            back = f"/units/{quote(unit_id)}?campaign={quote(camp)}"
            shown = deadline_time(until, self.cfg.timezone)
            past = PAST_EXTENSION if until <= self.clock() else ""
            if not confirmed:
                return self.confirm(request, title="Xác nhận gia hạn", lines=[
                    f"Đơn vị: {self.unit_name(unit_id)}", f"Đợt: {self.campaign_title(camp)}", f"Hạn mới: {shown}",
                    *([past] if past else [])],
                    action=request.url.path, fields={"campaign": camp, "until": typed}, button="Gia hạn", back=back)
            decision = await self.call(self.office.extend, unit_id, camp, until, self.actor(request))
            said = f"Đã gia hạn cho {self.unit_name(unit_id)} đến {shown}." + (f" {past}" if past else "")
            return self.done(request, said + self.repeats(decision), back)

        return await self.act(request, step, f"/units/{quote(unit_id)}")

    async def resend(self, request: Request) -> Response:
        unit_id = request.path_params["unit_id"]

        async def step(request: Request, form: FormData, confirmed: bool) -> Response:
            camp = self.campaign_id(text_field(form, "campaign"))
            back = f"/units/{quote(unit_id)}?campaign={quote(camp)}"
            req = await self.call(self.office.resend_request, unit_id, camp, self.actor(request), send=confirmed)
            if not confirmed:
                return self.confirm(request, title="Xác nhận đề nghị gửi lại", lines=[
                    f"Đơn vị: {self.unit_name(unit_id)}", f"Đợt: {self.campaign_title(camp)}",
                    f"Gửi tới: {', '.join(req.to)}", f"Tiêu đề: {req.subject}"], body=req.body,
                    action=request.url.path, fields={"campaign": camp}, button="Gửi thư đề nghị", back=back)
            return self.done(request, f"Đã gửi thư đề nghị {self.unit_name(unit_id)} gửi lại báo cáo "
                                      f"({', '.join(req.to)}).", back)

        return await self.act(request, step, f"/units/{quote(unit_id)}")

    async def choose_section(self, request: Request) -> Response:
        async def step(request: Request, form: FormData, confirmed: bool) -> Response:
            ref = text_field(form, "ref", required="Thiếu số tiếp nhận.")
            choice = text_field(form, "choice")
            back = "/messages?" + urlencode({"ref": ref})
            view = await self.call(self.office.show, ref)
            candidates = view.section.candidates if view.section else ()
            kwargs: dict[str, Any]
            heading = text_field(form, "heading")
            if choice == "heading" or (heading and not choice):
                if not heading:
                    raise FormProblem("Hãy gõ tiêu đề của mục, như trong báo cáo.")
                label, kwargs = heading, {"heading": heading}
            elif choice == "none":
                label, kwargs = "Không có mục đánh giá riêng", {"none": True}
            elif choice.isdigit() and 1 <= int(choice) <= len(candidates):  # numbered from 1, as `show` does
                label, kwargs = candidates[int(choice) - 1].heading, {"candidate": int(choice)}
            else:
                raise FormProblem("Lựa chọn không hợp lệ.")
            if not confirmed:
                return self.confirm(request, title="Xác nhận chọn mục", lines=[
                    f"Thư: {ref}", f"Mục được chọn: {label}"], action=request.url.path,
                    fields={"ref": ref, "choice": choice, "heading": heading}, button="Chọn mục này", back=back)
            await self.call(self.office.choose_section, ref, actor=self.actor(request), **kwargs)
            return self.done(request, f"Đã chọn mục: {label}.", back)

        return await self.act(request, step, "/")

    async def retry(self, request: Request) -> Response:
        """"Xử lý lại": process again a message whose processing failed."""
        async def step(request: Request, form: FormData, confirmed: bool) -> Response:
            ref = text_field(form, "ref", required="Thiếu số tiếp nhận.")
            back = "/messages?" + urlencode({"ref": ref})
            done = await self.call(self.office.retry, ref)
            if done.ok:
                return self.done(request, f"Đã xử lý lại thư {done.view.reference}.", back)
            return self.done(request, f"Thư {done.view.reference} vẫn lỗi khi xử lý: {done.view.error}", back)

        return await self.act(request, step, "/")

    async def remind(self, request: Request) -> Response:
        async def step(request: Request, form: FormData, confirmed: bool) -> Response:
            camp = self.campaign_id(text_field(form, "campaign"))
            back = f"/?campaign={quote(camp)}"
            if not confirmed:
                plan = await self.call(self.office.remind, camp, True, self.actor(request))
                lines = [f"Sẽ gửi nhắc: {r.unit_name} ({', '.join(r.addresses)})" for r in plan.queued]
                lines += [f"Đã nhắc hôm nay, không gửi lại: {u.name}" for u in plan.already]
                lines += [f"Chưa có địa chỉ thư: {u.name}" for u in plan.no_address]
                if not plan.queued:
                    return self.problem(request, "Không có đơn vị nào cần nhắc lúc này.", 200, back=back)
                return self.confirm(request, title="Gửi thư nhắc ngay", lines=lines, action=request.url.path,
                                    fields={"campaign": camp}, button=f"Gửi {len(plan.queued)} thư nhắc", back=back)
            plan = await self.call(self.office.remind, camp, False, self.actor(request))
            return self.done(request, f"Đã xếp lịch gửi {len(plan.queued)} thư nhắc.", back)

        return await self.act(request, step, "/")

    async def _decision_form(self, request: Request, form: FormData,
                             kind: str | None = None) -> tuple[DecisionView, str, str]:
        """The decision a form acts on (of `kind` when given), the campaign and the page to go back to."""
        try:
            decision_id = int(request.path_params["decision_id"])
        except ValueError as exc:
            raise FormProblem("Không có quyết định này.") from exc
        camp = self.campaign_id(text_field(form, "campaign"))
        back = safe_next(text_field(form, "next", limit=2000) or f"/decisions?campaign={quote(camp)}")
        rows = await self.call(self.office.decisions, None)
        row = next((d for d in rows if d.id == decision_id and kind in (None, d.kind)), None)
        if row is None:
            raise FormProblem("Không có quyết định này.")
        return row, camp, back

    async def revoke(self, request: Request) -> Response:
        async def step(request: Request, form: FormData, confirmed: bool) -> Response:
            row, camp, back = await self._decision_form(request, form)
            if not confirmed:
                return self.confirm(request, title="Xác nhận huỷ quyết định", lines=[
                    f"Quyết định: {render.decision_vi(row.kind)} — {row.unit_name}",
                    f"Do {row.decided_by} ghi lúc {local_time(row.decided_at, self.cfg.timezone)}"],
                    action=request.url.path, fields={"campaign": camp, "next": back}, button="Huỷ quyết định",
                    back=back, danger=True)
            await self.call(self.office.revoke, row.id, self.actor(request))
            return self.done(request, "Đã huỷ quyết định.", back)

        return await self.act(request, step, "/decisions")

    async def corrected_ack(self, request: Request) -> Response:
        """A corrected acknowledgement to the unit after the finder learned its report's section."""
        async def step(request: Request, form: FormData, confirmed: bool) -> Response:
            row, camp, back = await self._decision_form(request, form, DecisionKind.LEARNED)
            if not confirmed:
                return self.confirm(request, title="Gửi lại xác nhận đã sửa", lines=[
                    f"Thư {row.reference} — {row.unit_name or 'chưa rõ đơn vị'}",
                    f"Mục nay là: {row.heading or 'chưa tìm thấy'}", row.reason],
                    action=request.url.path, fields={"campaign": camp, "next": back},
                    button="Gửi xác nhận đã sửa", back=back)
            await self.call(self.office.send_corrected_ack, row.id, self.actor(request))
            return self.done(request, f"Đã gửi lại xác nhận đã sửa cho thư {row.reference}.", back)

        return await self.act(request, step, "/decisions")

    async def link(self, request: Request) -> Response:
        async def step(request: Request, form: FormData, confirmed: bool) -> Response:
            address = text_field(form, "address", required="Thiếu địa chỉ gửi.", limit=320)
            unit_id = text_field(form, "unit", required="Hãy chọn đơn vị.")
            camp = self.campaign_id(text_field(form, "campaign"))
            if self.office.catalog().unit(unit_id) is None:
                raise FormProblem("Không có đơn vị này trong danh sách.")
            result = await self.call(self.office.link_address, address, unit_id, self.actor(request))
            return self.done(request, f"Đã gán {address} cho {self.unit_name(unit_id)}; xét lại "
                             f"{result.reevaluated} thư.", f"/units/{quote(unit_id)}?campaign={quote(camp)}")

        return await self.act(request, step, "/unmatched")

    async def dismiss(self, request: Request) -> Response:
        async def step(request: Request, form: FormData, confirmed: bool) -> Response:
            ref = text_field(form, "ref", required="Thiếu số tiếp nhận.")
            reason = text_field(form, "reason", required="Hãy ghi lý do bỏ qua thư này.")
            camp = self.campaign_id(text_field(form, "campaign"))
            await self.call(self.office.dismiss, ref, reason, self.actor(request))
            return self.done(request, "Đã bỏ qua thư.", f"/unmatched?campaign={quote(camp)}")

        return await self.act(request, step, "/unmatched")

    def campaign_title(self, campaign_id: str) -> str:
        return self.office.campaign(campaign_id).title

    def repeats(self, decision: DecisionView) -> str:
        """A notice when the decision repeats one already in force (both are kept)."""
        earlier = self.office.repeats(decision)
        return "".join(f" Lưu ý: trùng với quyết định #{d.id} vẫn đang có hiệu lực"
                       f"{' (hạn ' + deadline_time(d.until, self.cfg.timezone) + ')' if d.until else ''}."
                       for d in earlier)

    def unit_name(self, unit_id: str) -> str:
        unit = self.office.catalog().unit(unit_id)
        return unit.name if unit is not None else unit_id


def needs_review(unit: UnitStatus) -> bool:
    """The latest report's section is missing or doubtful: staff should look."""
    if unit.latest is None or not unit.latest.has_report:
        return False
    section = unit.latest.section
    return section is None or not section.found or section.confidence == REVIEW
