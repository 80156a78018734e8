"""The dashboard's catalog pages: campaigns (list, create, edit, close) and the roster (add, edit,
remove, import with a preview). Every action goes through the Dashboard's two steps (check and
confirm, then do) and calls `services.Office`, as the command line does."""
from __future__ import annotations

import base64
import binascii
import datetime as dt

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from intake.parsers.errors import IntakeError
from intake.processor.catalog import SOURCE_VI
from intake.processor.catalog_cli import campaign_state
from intake.processor.catalog_edit import ROW_STATE_VI, CampaignForm, RowState, outline_text, remind_text, units_text
from intake.processor.config import CampaignConfig
from intake.processor.guidance import template_of
from intake.processor.guideline import ROLE_TEXT
from intake.processor.guideline_campaign import highlight
from intake.processor.times import deadline_time, local_time
from intake.processor.web.app import Dashboard, FormProblem, safe_filename, text_field
from intake.processor.web.security import checked_form

MAX_ROSTER_BYTES = 2 * 1024 * 1024
CAMPAIGN_FIELDS = ("title", "opens", "deadline", "section", "units", "remind", "keywords", "outline_required")
# The guideline's values shown with their source sentence: form field -> GuidelineFacts attribute.
SOURCED_FIELDS = (("title", "title"), ("deadline", "deadline_source"), ("section", "section_title"))


class CatalogPages:
    def __init__(self, web: Dashboard) -> None:
        self.web = web
        self.office = web.office

    def routes(self) -> list[Route]:
        return [
            Route("/campaigns", self.campaigns, methods=["GET"]),
            Route("/campaigns/new", self.campaign_form, methods=["GET"]),
            Route("/campaigns/new", self.save_campaign, methods=["POST"]),
            Route("/campaigns/guideline", self.campaign_from_guideline, methods=["POST"]),
            Route("/campaigns/{campaign_id}/edit", self.campaign_form, methods=["GET"]),
            Route("/campaigns/{campaign_id}/edit", self.save_campaign, methods=["POST"]),
            Route("/campaigns/{campaign_id}/close", self.close_campaign, methods=["POST"]),
            Route("/roster", self.roster, methods=["GET"]),
            Route("/roster/add", self.save_unit, methods=["POST"]),
            Route("/roster/import", self.import_units, methods=["POST"]),
            Route("/roster/{unit_id}/edit", self.unit_form, methods=["GET"]),
            Route("/roster/{unit_id}/edit", self.save_unit, methods=["POST"]),
            Route("/roster/{unit_id}/remove", self.remove_unit, methods=["POST"]),
        ]

    # -- campaigns ---------------------------------------------------------------

    async def campaigns(self, request: Request) -> Response:
        catalog = await self.web.call(self.office.catalog)
        now = self.web.clock()
        rows = [(c, campaign_state(c, now), SOURCE_VI[c.source], units_text(c.units), remind_text(c.remind))
                for c in catalog.campaigns]
        return self.web.page(request, "campaigns.html.j2", rows=rows)

    async def campaign_form(self, request: Request) -> Response:
        campaign_id = request.path_params.get("campaign_id")
        values = {"id": "", **dict.fromkeys(CAMPAIGN_FIELDS, ""), "units": "all", "outline": ""}
        if campaign_id is not None:
            camp = await self.web.call(self.office.campaign, campaign_id)
            values = self._typed(camp)
        return self.web.page(request, "campaign_form.html.j2", editing=campaign_id, values=values,
                             sources=None, candidates=[], guideline=None, address=None,
                             groups=(await self.web.call(self.office.catalog)).groups())

    def _typed(self, camp: CampaignConfig) -> dict[str, str]:
        """A campaign's values as staff type them in the form."""
        tz = self.web.cfg.timezone
        return {"id": camp.id, "title": camp.title, "opens": camp.opens.astimezone(tz).strftime("%d/%m/%Y %H:%M"),
                "deadline": camp.deadline.astimezone(tz).strftime("%d/%m/%Y %H:%M"), "section": camp.section_title,
                "units": "all" if camp.units == ("*",) else ", ".join(camp.units), "remind": remind_text(camp.remind),
                "keywords": ", ".join(camp.section_keywords), "outline": "\n".join(h.text for h in camp.outline),
                "outline_required": (camp.outline[camp.outline_required].text
                                     if camp.outline_required is not None else "")}

    async def campaign_from_guideline(self, request: Request) -> Response:
        """The guideline uploaded: the new-campaign form filled in from it, each value beside the
        sentence it comes from (the value marked), the dates when the deadline is unclear."""
        limit = self.web.office.app.reader.limits.max_bytes
        form = await checked_form(request, self.web.cfg.web.base_url, max_files=1, max_part_size=limit + 1)
        upload = form.get("guideline")
        if not isinstance(upload, UploadFile):
            return self.web.problem(request, "Hãy chọn tệp văn bản hướng dẫn.", 400, back="/campaigns/new")
        data = await upload.read(limit + 1)  # the reader refuses more than its limit, with the sizes
        filename = safe_filename(upload.filename or "", "huong-dan.txt")  # for its suffix only
        try:
            facts = await self.web.call(self.office.read_guideline, filename, data)
        except IntakeError as exc:
            return self.web.problem(request, f"Không đọc được văn bản hướng dẫn: {exc}", 400, back="/campaigns/new")
        filled = await self.web.call(self.office.guideline_form, facts)
        values = {"id": "", **dict.fromkeys(CAMPAIGN_FIELDS, ""), "units": "all",
                  **{name: str(getattr(filled, name) or "") for name in ("title", "section")},
                  "opens": self._local(filled.opens), "deadline": self._local(filled.deadline),
                  "outline": "\n".join(h.text for h in filled.outline or ())}
        sources = {name: highlight(getattr(facts, attr)) for name, attr in SOURCED_FIELDS}
        reasons = ROLE_TEXT["vi"]
        tz = self.web.cfg.timezone
        candidates = [(c.written, c.when.astimezone(tz).strftime("%d/%m/%Y %H:%M"), reasons[c.role], c.taken)
                      for c in facts.deadline_candidates] if facts.deadline is None else []
        return self.web.page(request, "campaign_form.html.j2", editing=None, values=values, sources=sources,
                             candidates=candidates, guideline=filename, address=facts.address,
                             groups=(await self.web.call(self.office.catalog)).groups())

    def _local(self, iso: str | None) -> str:
        """An ISO time the guideline gave, as staff type it (dd/mm/yyyy hh:mm in the office's zone)."""
        if not iso:
            return ""
        return dt.datetime.fromisoformat(iso).astimezone(self.web.cfg.timezone).strftime("%d/%m/%Y %H:%M")

    async def save_campaign(self, request: Request) -> Response:
        editing = request.path_params.get("campaign_id")

        async def step(request: Request, form: FormData, confirmed: bool) -> Response:
            typed = {name: text_field(form, name, limit=1000) for name in CAMPAIGN_FIELDS}
            campaign_id = editing or text_field(form, "id", required="Hãy nhập mã đợt.", limit=100)
            headings = outline_lines(form)
            typed["outline"] = "\n".join(headings)
            draft = CampaignForm(title=typed["title"], opens=typed["opens"], deadline=typed["deadline"],
                                 section=typed["section"], units=[typed["units"]], remind=[typed["remind"]],
                                 keywords=[typed["keywords"]],
                                 outline=template_of(headings) if headings else (() if editing else None),
                                 outline_required=typed["outline_required"] or None)
            camp = await self.web.call(self.office.campaign_draft, campaign_id, draft, new=editing is None)
            back = "/campaigns"
            if not confirmed:
                tz = self.web.cfg.timezone
                return self.web.confirm(request, title="Xác nhận " + ("sửa đợt báo cáo" if editing else
                                                                       "tạo đợt báo cáo"), lines=[
                    f"Mã đợt: {camp.id}", f"Tên: {camp.title}", f"Mở: {local_time(camp.opens, tz)}",
                    f"Hạn nộp: {deadline_time(camp.deadline, tz)}", f"Mục bắt buộc: {camp.section_title}",
                    f"Đơn vị: {units_text(camp.units)}", f"Nhắc: {remind_text(camp.remind) or 'không'}",
                    f"Đề cương: {outline_text(camp) or 'không'}"],
                    action=request.url.path, fields={"id": campaign_id, **typed},
                    button="Lưu đợt báo cáo", back=back)
            if editing:
                _camp, changes = await self.web.call(self.office.edit_campaign, campaign_id, draft,
                                                     self.web.actor(request))
                return self.web.done(request, f"Đã sửa đợt {campaign_id}: {'; '.join(changes)}.", back)
            await self.web.call(self.office.add_campaign, campaign_id, draft, self.web.actor(request))
            return self.web.done(request, f"Đã tạo đợt {campaign_id}: {camp.title}.", back)

        return await self.web.act(request, step, "/campaigns")

    async def close_campaign(self, request: Request) -> Response:
        campaign_id = request.path_params["campaign_id"]

        async def step(request: Request, form: FormData, confirmed: bool) -> Response:
            camp = await self.web.call(self.office.campaign, campaign_id)
            if not confirmed:
                return self.web.confirm(request, title="Xác nhận kết thúc đợt báo cáo", lines=[
                    f"Đợt: {camp.title} ({camp.id})", "Mọi thư và quyết định vẫn giữ; không nhắc nữa; "
                    "thư mới không được xếp vào đợt này theo thời gian nhận."], action=request.url.path,
                    fields={}, button="Kết thúc đợt", back="/campaigns", danger=True)
            await self.web.call(self.office.close_campaign, campaign_id, self.web.actor(request))
            return self.web.done(request, f"Đã kết thúc đợt {camp.id}.", "/campaigns")

        return await self.web.act(request, step, "/campaigns")

    # -- the roster ----------------------------------------------------------------

    async def roster(self, request: Request) -> Response:
        catalog = await self.web.call(self.office.catalog)
        addresses = await self.web.call(self.office.store.registered_addresses)
        rows = [(u, sorted(a for a, owner in addresses.items() if owner == u.id), SOURCE_VI[u.source])
                for u in catalog.units]
        return self.web.page(request, "roster.html.j2", rows=rows, max_mb=MAX_ROSTER_BYTES // (1024 * 1024))

    async def unit_form(self, request: Request) -> Response:
        unit = await self.web.call(self.office.unit, request.path_params["unit_id"])
        return self.web.page(request, "unit_form.html.j2", unit=unit)

    async def save_unit(self, request: Request) -> Response:
        editing = request.path_params.get("unit_id")

        async def step(request: Request, form: FormData, confirmed: bool) -> Response:
            unit_id = editing or text_field(form, "id", required="Hãy nhập mã đơn vị.", limit=100)
            name = text_field(form, "name", required="Hãy nhập tên đơn vị.", limit=300)
            emails = text_field(form, "emails", limit=2000)
            aliases = [a.strip() for a in text_field(form, "aliases", limit=2000).split(";") if a.strip()]
            group = text_field(form, "group", limit=100)
            fields = {"id": unit_id, "name": name, "emails": emails, "aliases": "; ".join(aliases), "group": group}
            if not confirmed:
                if editing is None and (await self.web.call(self.office.catalog)).unit(unit_id) is not None:
                    raise FormProblem(f"Đã có đơn vị mã “{unit_id}”.")
                return self.web.confirm(request, title="Xác nhận " + ("sửa đơn vị" if editing else "thêm đơn vị"),
                                        lines=[f"Mã: {unit_id}", f"Tên: {name}", f"Địa chỉ thư: {emails or '—'}",
                                               f"Tên khác: {'; '.join(aliases) or '—'}", f"Nhóm: {group or '—'}"],
                                        action=request.url.path, fields=fields, button="Lưu đơn vị", back="/roster")
            actor = self.web.actor(request)
            if editing:
                _unit, changes = await self.web.call(self.office.edit_unit, unit_id, name=name, emails=[emails],
                                                     aliases=aliases, group=group, actor=actor)
                return self.web.done(request, f"Đã sửa đơn vị {name}: {'; '.join(changes)}.", "/roster")
            await self.web.call(self.office.add_unit, unit_id, name=name, emails=[emails], aliases=aliases,
                                group=group, actor=actor)
            return self.web.done(request, f"Đã thêm đơn vị {name} ({unit_id}).", "/roster")

        return await self.web.act(request, step, "/roster")

    async def remove_unit(self, request: Request) -> Response:
        unit_id = request.path_params["unit_id"]

        async def step(request: Request, form: FormData, confirmed: bool) -> Response:
            unit = await self.web.call(self.office.unit, unit_id)
            if not confirmed:
                return self.web.confirm(request, title="Xác nhận bỏ đơn vị khỏi danh sách", lines=[
                    f"Đơn vị: {unit.name} ({unit.id})", "Thư và quyết định cũ của đơn vị vẫn giữ; đơn vị không "
                    "còn phải báo cáo trong các đợt."], action=request.url.path, fields={}, button="Bỏ đơn vị",
                    back="/roster", danger=True)
            await self.web.call(self.office.remove_unit, unit_id, self.web.actor(request))
            return self.web.done(request, f"Đã bỏ đơn vị {unit.name} khỏi danh sách.", "/roster")

        return await self.web.act(request, step, "/roster")

    async def import_units(self, request: Request) -> Response:
        """Upload: the preview, row by row, and a form that carries the file to the confirmation;
        confirmed: the import (its preview computed again now)."""
        form = await checked_form(request, self.web.cfg.web.base_url, max_files=1,
                                  max_part_size=MAX_ROSTER_BYTES * 2)
        try:
            filename, data = await self._roster_file(form)
            if form.get("confirmed") == "1":
                done = await self.web.call(self.office.import_units, filename, data, self.web.actor(request))
                return self.web.done(request, f"Đã nhập {filename}: {done.count(RowState.NEW)} đơn vị mới, "
                                     f"{done.count(RowState.CHANGED)} thay đổi; {done.count(RowState.ERROR)} dòng "
                                     "lỗi không ghi.", "/roster")
            preview = await self.web.call(self.office.preview_import, filename, data)
        except IntakeError as exc:
            return self.web.problem(request, f"Không nhập được: {exc}", 400, back="/roster")
        return self.web.page(request, "roster_import.html.j2", preview=preview, states=ROW_STATE_VI,
                             filename=filename, data=base64.b64encode(data).decode(), writes=len(preview.writes),
                             new=preview.count(RowState.NEW), changed=preview.count(RowState.CHANGED),
                             errors=preview.count(RowState.ERROR))

    async def _roster_file(self, form: FormData) -> tuple[str, bytes]:
        upload = form.get("file")
        if isinstance(upload, UploadFile):
            data = await upload.read(MAX_ROSTER_BYTES + 1)
            filename = safe_filename(upload.filename or "", "danh-sach.csv")
        else:
            try:
                data = base64.b64decode(str(form.get("data") or ""), validate=True)
            except binascii.Error as exc:
                raise FormProblem("Tệp gửi lên bị hỏng: hãy chọn lại tệp.") from exc
            filename = safe_filename(str(form.get("filename") or ""), "danh-sach.csv")
        if not data:
            raise FormProblem("Hãy chọn một tệp .csv hoặc .xlsx.")
        if len(data) > MAX_ROSTER_BYTES:
            raise FormProblem(f"Tệp quá lớn (tối đa {MAX_ROSTER_BYTES // (1024 * 1024)} MB).")
        return filename, data


def outline_lines(form: FormData, limit: int = 200) -> list[str]:
    """The outline's headings as typed, one a line (blank lines dropped), at most `limit`."""
    value = form.get("outline")
    lines = [" ".join(line.split()) for line in value.splitlines()] if isinstance(value, str) else []
    headings = [line[:500] for line in lines if line]
    if len(headings) > limit:
        raise FormProblem(f"Đề cương quá dài (tối đa {limit} đề mục).")
    return headings
