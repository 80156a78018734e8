"""Configuration: TOML parsed once into frozen, typed objects.

Every problem is a `ConfigError` naming the file, the key and what is wrong
(`[mailbox] security: expected one of ssl, starttls, none, got "tls"`); the
CLI turns it into exit status 2. Relative paths (Maildir, files, outbox,
units file, password/token/CA files, a SQLite file) are taken from the folder
that holds the config file, never from the working directory (SPEC).
Secrets are read here, from the environment mapping or a file handed in,
and kept in `Secret`, whose repr never shows the value.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from intake.parsers.errors import ConfigError, UsageError
from intake.parsers.guide import TemplateHeading
from intake.processor.guidance import required_of, template_of
from intake.processor.i18n import N_, _
from intake.processor.roster_file import read_roster
from intake.processor.staff_dates import from_toml_date, parse_staff_datetime
from intake.processor.units import UnitConfig
from intake.store.kinds import Source

T = TypeVar("T")

SECURITY_CHOICES = ("ssl", "starttls", "none")
# How the usual group codes read when [groups] does not name them.
DEFAULT_GROUPS = {"huyen": N_("District"), "nganh": N_("Sector union"), "co-so": N_("Grassroots union"),
                  "doanh-nghiep": N_("Enterprise union")}
LANGUAGES = ("vi", "en")


@dataclass(frozen=True)
class Secret:
    """A password or token; `source` says where it came from, for messages."""

    source: str
    value: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"Secret({self.source!r}, {'set' if self.value else 'unset'})"


@dataclass(frozen=True)
class StoreConfig:
    url: str
    files_dir: Path


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    """How to reach and log in to a mail server (IMAP or SMTP)."""

    host: str = ""
    port: int = 0
    security: str = "ssl"
    username: str = ""
    password: Secret = Secret("unset")
    oauth2_token_command: str | None = None
    oauth2_token_file: Path | None = None
    ca_file: Path | None = None
    timeout: int = 60


# Keys of a server's login, accepted (and unused) beside kind = "maildir" / "outbox".
SERVER_KEYS = ("host", "port", "security", "username", "password_env", "password_file", "ca_file",
               "oauth2_token_command", "oauth2_token_file")


@dataclass(frozen=True, kw_only=True)
class ImapConfig(ServerConfig):
    """[mailbox] kind = "imap"."""

    kind: Literal["imap"] = "imap"
    port: int = 993
    folder: str = "INBOX"
    after: str = "flag"
    move_to: str = "Intake/Processed"
    poll_every: int = 60
    idle: bool = True
    since: dt.date | None = None  # ignore mail received before this day
    max_message_mb: int = 40  # larger messages are stored but never parsed


@dataclass(frozen=True, kw_only=True)
class MaildirConfig:
    """[mailbox] kind = "maildir": a local Maildir, read and never changed."""

    kind: Literal["maildir"] = "maildir"
    path: Path
    poll_every: int = 60
    timeout: int = 60
    since: dt.date | None = None  # ignore mail received before this day
    max_message_mb: int = 40  # larger messages are stored but never parsed


MailboxConfig = ImapConfig | MaildirConfig


@dataclass(frozen=True, kw_only=True)
class SmtpConfig(ServerConfig):
    """[sending] kind = "smtp"."""

    kind: Literal["smtp"] = "smtp"
    from_address: str
    from_name: str = ""
    port: int = 465


@dataclass(frozen=True, kw_only=True)
class OutboxConfig:
    """[sending] kind = "outbox": each mail written as an .eml file into `outbox_dir`."""

    kind: Literal["outbox"] = "outbox"
    from_address: str
    from_name: str = ""
    outbox_dir: Path = Path("outbox")
    timeout: int = 60


SendingConfig = SmtpConfig | OutboxConfig


def login_of(server: MailboxConfig | SendingConfig) -> str:
    """The account name a mail server config logs in with ("" for Maildir and outbox)."""
    return server.username if isinstance(server, ServerConfig) else ""


@dataclass(frozen=True)
class AcknowledgeConfig:
    enabled: bool = True
    language: str = "vi"
    max_age_days: int = 14
    max_per_hour: int = 5


@dataclass(frozen=True)
class RemindPoint:
    """One of a campaign's reminder points: "-3d" = three days before the (unit's) deadline."""

    label: str                 # as configured; names the point in dedupe keys
    offset: dt.timedelta


@dataclass(frozen=True)
class CampaignConfig:
    id: str
    title: str
    opens: dt.datetime
    deadline: dt.datetime
    section_title: str
    units: tuple[str, ...] = ("*",)
    section_keywords: tuple[str, ...] = ()
    remind: tuple[RemindPoint, ...] = ()
    source: Source = Source.CONFIG
    closed_at: dt.datetime | None = None   # closed by staff: keeps everything, takes no new mail by time
    outline: tuple[TemplateHeading, ...] = ()  # the guideline's đề cương, for the finder (processor/guidance.py)
    outline_required: int | None = None        # index into `outline` of the required part

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def unit_ids(self, roster: tuple[UnitConfig, ...]) -> tuple[str, ...]:
        """The roster ids this campaign expects, in roster order."""
        wanted: set[str] = set()
        for ref in self.units:
            if ref == "*":
                return tuple(u.id for u in roster)
            if ref.startswith("group:"):
                wanted.update(u.id for u in roster if u.group == ref[6:])
            else:
                wanted.add(ref)
        return tuple(u.id for u in roster if u.id in wanted)


@dataclass(frozen=True)
class StaffConfig:
    emails: tuple[str, ...] = ()
    digest_at: dt.time | None = None   # local time of the daily digest
    language: str = "vi"


@dataclass(frozen=True)
class WebConfig:
    """[web]: where `intake serve` listens and the URL staff reach it by."""

    host: str = "127.0.0.1"
    port: int = 8080
    base_url: str = "http://127.0.0.1:8080/"
    secret_file: Path | None = None   # session-signing key; default: beside the store


@dataclass(frozen=True)
class ReportConfig:
    """`[report]`: the compiled report's header and signature (Decree 30/2020 layout).

    Empty values become dotted placeholders that staff fill in by hand.
    """

    parent: str = ""          # the body above the office, e.g. "LĐLĐ TỈNH LÀO CAI"
    office: str = ""          # the issuing office, e.g. "BAN TUYÊN GIÁO - NỮ CÔNG"
    number_prefix: str = "BC"  # "Số: .../BC-TG"
    place: str = ""           # "Lào Cai, ngày ... tháng ... năm ..."
    signer_title: str = ""    # e.g. "TRƯỞNG BAN"
    signer_name: str = ""


@dataclass(frozen=True)
class Config:
    path: Path
    timezone: ZoneInfo
    store: StoreConfig
    mailbox: MailboxConfig
    sending: SendingConfig
    acknowledge: AcknowledgeConfig
    units: tuple[UnitConfig, ...]
    campaigns: tuple[CampaignConfig, ...]
    staff: StaffConfig
    isolate_parsing: bool = True
    web: WebConfig = field(default_factory=WebConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    groups: tuple[tuple[str, str], ...] = ()      # [groups]: a unit's group code -> how people read it
    named_files: tuple[Path, ...] = ()             # files the config names that `backup` copies (no secrets)

    def group_label(self, code: str) -> str:
        """How a group code is shown: its [groups] name, else a default for the usual codes, else the code."""
        named = dict(self.groups).get(code)
        if named:
            return named
        return _(DEFAULT_GROUPS[code]) if code in DEFAULT_GROUPS else code


class _Section:
    """Typed reads from one TOML table, each failure naming its key."""

    def __init__(self, data: Mapping[str, Any], name: str, path: str) -> None:
        self.data, self.name, self.path = data, name, path
        self.known: set[str] = set()

    def _key(self, key: str) -> str:
        return f"[{self.name}] {key}" if self.name else key

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(problem, key=self._key(key), path=self.path)

    def get(self, key: str, kind: type[T], default: T | None = None, *, required: bool = False) -> T:
        self.known.add(key)
        if key not in self.data:
            if required:
                raise self.fail(key, _("missing"))
            return default  # type: ignore[return-value]
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if kind is int and isinstance(value, bool):
            raise self.fail(key, _("expected an integer, got {value!r}", value=value))
        if not isinstance(value, kind):
            raise self.fail(key, _("expected {kind}, got {type} {value!r}", kind=_kind_name(kind),
                                   type=type(value).__name__, value=value))
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.get(key, str, default)
        if value not in choices:
            raise self.fail(key, _("expected one of {choices}, got \"{value}\"", choices=", ".join(choices),
                                   value=value))
        return value

    def positive(self, key: str, default: int) -> int:
        value = self.get(key, int, default)
        if value <= 0:
            raise self.fail(key, _("expected a positive integer, got {value}", value=value))
        return value

    def strings(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.get(key, list, list(default))
        if not all(isinstance(v, str) for v in value):
            raise self.fail(key, _("expected a list of strings"))
        return tuple(value)

    def path_(self, key: str, default: str | None = None) -> Path | None:
        value = self.get(key, str, default)
        return config_relative(Path(value), self.path) if value else None

    def sub(self, key: str) -> _Section:
        self.known.add(key)
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, _("expected a table, got {type}", type=type(value).__name__))
        return _Section(value, key, self.path)

    def reject_unknown(self) -> None:
        unknown = sorted(set(self.data) - self.known)
        if unknown:
            raise self.fail(unknown[0], _("unknown key"))


def config_relative(path: Path, config_file: str | Path) -> Path:
    """`path` as written in the config: relative ones are taken from the config file's folder."""
    path = path.expanduser()
    return path if path.is_absolute() else Path(config_file).absolute().parent / path


def _sqlite_relative(url: str, config_file: str) -> str:
    """`sqlite:///intake.db` -> `sqlite:////abs/config/folder/intake.db`; memory and absolute URLs stay."""
    m = re.match(r"^(sqlite(?:\+\w+)?:///)([^?]*)(\?.*)?$", url)
    if not m or not m[2] or m[2] == ":memory:" or m[2].startswith("/") or m[2].startswith("file:"):
        return url
    return f"{m[1]}{config_relative(Path(m[2]), config_file)}{m[3] or ''}"


def _kind_name(kind: type) -> str:
    names = {str: N_("a string"), int: N_("an integer"), bool: N_("true or false"), list: N_("a list"),
             float: N_("a number"), dict: N_("a table")}
    return _(names[kind]) if kind in names else kind.__name__


def load_config(path: Path, environ: Mapping[str, str]) -> Config:
    """Read and validate the TOML file at `path`."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(_("file not found"), path=shown) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(_("cannot read: {reason}", reason=exc), path=shown) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_("not valid TOML: {reason}", reason=exc), path=shown) from exc
    return parse_config(data, path, environ)


def parse_config(data: Mapping[str, Any], path: Path, environ: Mapping[str, str]) -> Config:
    top = _Section(data, "", str(path))
    tz_name = top.get("timezone", str, "Asia/Ho_Chi_Minh")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise top.fail("timezone", _("unknown time zone \"{name}\"", name=tz_name)) from exc
    store = _store(top.sub("store"))
    mailbox = _mailbox(top.sub("mailbox"), environ)
    sending = _sending(top.sub("sending"), environ)
    ack = _acknowledge(top.sub("acknowledge"))
    staff = _staff(top.sub("staff"))
    units = _units(top, path)
    campaigns = _campaigns(top, tz, units)
    isolate = top.get("isolate_parsing", bool, True)
    web = _web(top.sub("web"))
    report = _report(top.sub("report"))
    groups = _groups(top.sub("groups"))
    named = tuple(p for p in (top.path_("units_file"), *(getattr(s, "ca_file", None) for s in (mailbox, sending)))
                  if p is not None)  # password_file and oauth2_token_file hold secrets: never copied
    top.reject_unknown()
    return Config(path=path, timezone=tz, store=store, mailbox=mailbox, sending=sending,
                  acknowledge=ack, units=units, campaigns=campaigns, staff=staff,
                  isolate_parsing=isolate, web=web, report=report, groups=groups, named_files=named)


def _groups(sec: _Section) -> tuple[tuple[str, str], ...]:
    names = tuple((code, sec.get(code, str).strip()) for code in sorted(sec.data))
    sec.reject_unknown()
    return names


def _report(sec: _Section) -> ReportConfig:
    values = {key: sec.get(key, str, getattr(ReportConfig, key)).strip()
              for key in ("parent", "office", "number_prefix", "place", "signer_title", "signer_name")}
    sec.reject_unknown()
    return ReportConfig(**values)


def _store(sec: _Section) -> StoreConfig:
    url = sec.get("url", str, "sqlite:///intake.db")
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", url):
        raise sec.fail("url", _("expected a sqlite:// or postgresql:// URL, got \"{url}\"", url=url))
    url = _sqlite_relative(url, sec.path)
    files = sec.path_("files_dir", "files")
    sec.reject_unknown()
    assert files is not None
    return StoreConfig(url=url, files_dir=files)


def _secret(sec: _Section, environ: Mapping[str, str], default_env: str) -> Secret:
    if "password" in sec.data:
        raise sec.fail("password", _("passwords are never written in the config: use password_env or password_file"))
    file_ = sec.path_("password_file")
    if file_ is not None:
        try:
            return Secret(str(file_), file_.read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise sec.fail("password_file", _("cannot read {path}: {reason}", path=file_, reason=exc.strerror)) from exc
    env = sec.get("password_env", str, default_env)
    return Secret(f"${env}", environ.get(env))  # "$INTAKE_IMAP_PASSWORD": read alike in every language


def _security(sec: _Section, host: str) -> str:
    security = sec.choice("security", SECURITY_CHOICES, "ssl")
    if security == "none" and host and not _is_loopback(host):
        raise sec.fail("security", _("\"none\" is allowed only for a loopback host, not \"{host}\"", host=host))
    return security


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _server(sec: _Section, environ: Mapping[str, str], *, port: int, password_env: str,
            username_required: bool) -> dict[str, Any]:
    """The login keys shared by [mailbox] (IMAP) and [sending] (SMTP)."""
    host = sec.get("host", str, required=True)
    return {
        "host": host, "port": sec.positive("port", port), "security": _security(sec, host),
        "username": sec.get("username", str, "", required=username_required),
        "password": _secret(sec, environ, password_env),
        "oauth2_token_command": sec.get("oauth2_token_command", str, None),
        "oauth2_token_file": sec.path_("oauth2_token_file"), "ca_file": sec.path_("ca_file"),
        "timeout": sec.positive("timeout", 60)}


def _mailbox(sec: _Section, environ: Mapping[str, str]) -> MailboxConfig:
    kind = sec.choice("kind", ("imap", "maildir"), "maildir")
    common: dict[str, Any] = {
        "kind": kind, "poll_every": sec.positive("poll_every", 60),
        "after": sec.choice("after", ("flag", "move", "none"), "flag"),
        "move_to": sec.get("move_to", str, "Intake/Processed"), "folder": sec.get("folder", str, "INBOX"),
        "idle": sec.get("idle", bool, True), "since": _since(sec),
        "max_message_mb": sec.positive("max_message_mb", 40)}
    if kind == "maildir":
        path = sec.path_("path", None)
        if path is None:
            raise sec.fail("path", _("missing (kind = \"maildir\" needs the Maildir's path)"))
        timeout = sec.positive("timeout", 60)
        sec.known.update(SERVER_KEYS)
        sec.reject_unknown()
        return MaildirConfig(path=path, timeout=timeout, poll_every=common["poll_every"], since=common["since"],
                             max_message_mb=common["max_message_mb"])
    del common["kind"]
    cfg = ImapConfig(**common, **_server(sec, environ, port=993, password_env="INTAKE_IMAP_PASSWORD",
                                         username_required=True))
    sec.known.add("path")
    sec.reject_unknown()
    return cfg


def _sending(sec: _Section, environ: Mapping[str, str]) -> SendingConfig:
    kind = sec.choice("kind", ("smtp", "outbox"), "outbox")
    from_address = sec.get("from_address", str, required=True)
    if "@" not in from_address:
        raise sec.fail("from_address", _("expected an email address, got \"{value}\"", value=from_address))
    common: dict[str, Any] = {"from_address": from_address, "from_name": sec.get("from_name", str, "")}
    outbox_dir = sec.path_("outbox_dir", "outbox")
    if kind == "outbox":
        timeout = sec.positive("timeout", 60)
        sec.known.update(SERVER_KEYS)
        sec.reject_unknown()
        assert outbox_dir is not None
        return OutboxConfig(**common, outbox_dir=outbox_dir, timeout=timeout)
    cfg = SmtpConfig(**common, **_server(sec, environ, port=465, password_env="INTAKE_SMTP_PASSWORD",
                                         username_required=False))
    sec.reject_unknown()
    return cfg


def _since(sec: _Section) -> dt.date | None:
    """`since = 2024-01-01` (a TOML date) or as staff type it (\"01/01/2024\")."""
    sec.known.add("since")
    value = sec.data.get("since")
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return parse_staff_datetime(value, dt.UTC, dt.datetime.now(dt.UTC), day_starts=True)[0].date()
        except UsageError as exc:
            raise sec.fail("since", str(exc)) from exc
    raise sec.fail("since", _("expected a date such as 2024-01-01, got {value!r}", value=value))


def _acknowledge(sec: _Section) -> AcknowledgeConfig:
    cfg = AcknowledgeConfig(
        enabled=sec.get("enabled", bool, True), language=sec.choice("language", LANGUAGES, "vi"),
        max_age_days=sec.positive("max_age_days", 14), max_per_hour=sec.positive("max_per_hour", 5))
    sec.reject_unknown()
    return cfg


def _staff(sec: _Section) -> StaffConfig:
    digest_at = sec.get("digest_at", str, None)
    if digest_at is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", digest_at):
        raise sec.fail("digest_at", _("expected HH:MM, got \"{value}\"", value=digest_at))
    cfg = StaffConfig(emails=sec.strings("emails"),
                      digest_at=dt.time.fromisoformat(digest_at) if digest_at is not None else None,
                      language=sec.choice("language", LANGUAGES, "vi"))
    sec.reject_unknown()
    return cfg


def parse_listen(text: str) -> tuple[str, int]:
    """"HOST:PORT" (an IPv6 host in brackets) -> (host, port); ValueError when malformed."""
    m = re.fullmatch(r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\s\[\]]+)):(?P<port>\d{1,5})", text.strip())
    if m is None or not 0 < int(m["port"]) < 65536:
        raise ValueError(_("expected HOST:PORT such as 127.0.0.1:8080, got \"{value}\"", value=text))
    return (m["v6"] or m["host"]), int(m["port"])


def _web(sec: _Section) -> WebConfig:
    listen = sec.get("listen", str, "127.0.0.1:8080")
    try:
        host, port = parse_listen(listen)
    except ValueError as exc:
        raise sec.fail("listen", str(exc)) from exc
    shown = f"[{host}]" if ":" in host else host
    base_url = sec.get("base_url", str, f"http://{shown}:{port}/")
    if not re.match(r"^https?://[^/\s]+", base_url):
        raise sec.fail("base_url", _("expected an http:// or https:// URL, got \"{value}\"", value=base_url))
    cfg = WebConfig(host=host, port=port, base_url=base_url if base_url.endswith("/") else base_url + "/",
                    secret_file=sec.path_("secret_file"))
    sec.reject_unknown()
    return cfg


def _units(top: _Section, path: Path) -> tuple[UnitConfig, ...]:
    inline = top.get("units", list, [])
    file_ = top.path_("units_file")
    if inline and file_:
        raise top.fail("units_file", _("give either [[units]] or units_file, not both"))
    units = _units_from_csv(file_, str(path)) if file_ else _units_from_toml(inline, str(path))
    seen: set[str] = set()
    for unit in units:
        if unit.id in seen:
            raise ConfigError(_("duplicate unit id \"{id}\"", id=unit.id), key="[[units]] id", path=str(path))
        seen.add(unit.id)
    return tuple(units)


def _units_from_toml(items: list[Any], path: str) -> list[UnitConfig]:
    units = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ConfigError(_("expected a table"), key=f"[[units]] #{i + 1}", path=path)
        sec = _Section(item, f"[units #{i + 1}]", path)
        units.append(UnitConfig(
            id=sec.get("id", str, required=True), name=sec.get("name", str, required=True),
            aliases=sec.strings("aliases"), emails=tuple(e.strip() for e in sec.strings("emails")),
            group=sec.get("group", str, "")))
        sec.reject_unknown()
    return units


def _units_from_csv(file_: Path, path: str) -> list[UnitConfig]:
    try:
        rows = read_roster(file_.name if file_.suffix.lower() == ".xlsx" else f"{file_.name}.csv", file_.read_bytes(),
                           Source.CONFIG)
    except OSError as exc:
        raise ConfigError(_("cannot read {path}: {reason}", path=file_, reason=exc.strerror), key="units_file",
                          path=path) from exc
    except UsageError as exc:
        raise ConfigError(f"{file_}: {exc}", key="units_file", path=path) from exc
    bad = next((r for r in rows if r.unit is None), None)
    if bad is not None:
        raise ConfigError(f"{file_} line {bad.line}: {bad.error}", key="units_file", path=path)
    return [r.unit for r in rows if r.unit is not None]


def _when(sec: _Section, key: str, tz: ZoneInfo) -> dt.datetime:
    """A date as staff type it (05/03/2024 [17:00], ISO, a TOML date or date-time); a date alone
    is the end of that day for `deadline`, its start for `opens`."""
    sec.known.add(key)
    if key not in sec.data:
        raise sec.fail(key, _("missing"))
    value = sec.data[key]
    day_starts = key == "opens"
    if isinstance(value, str):
        try:
            return parse_staff_datetime(value, tz, dt.datetime.now(tz), day_starts=day_starts)[0]
        except UsageError as exc:
            raise sec.fail(key, str(exc)) from exc
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, dt.date):
        return from_toml_date(value, tz, day_starts=day_starts)
    raise sec.fail(key, _("expected a date-time, got {value!r}", value=value))


REMIND_RE = re.compile(r"^[+-]\d+[dh]$")


def _campaigns(top: _Section, tz: ZoneInfo, units: tuple[UnitConfig, ...]) -> tuple[CampaignConfig, ...]:
    items = top.get("campaigns", list, [])  # none: staff create them (`intake campaign add`)
    ids = {u.id for u in units}
    groups = {u.group for u in units}
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise top.fail(f"campaigns #{i + 1}", _("expected a table"))
        sec = _Section(item, f"campaigns #{i + 1}", top.path)
        camp = CampaignConfig(
            id=sec.get("id", str, required=True), title=sec.get("title", str, required=True),
            opens=_when(sec, "opens", tz), deadline=_when(sec, "deadline", tz),
            section_title=sec.get("section_title", str, required=True), units=sec.strings("units", ("*",)),
            section_keywords=sec.strings("section_keywords"), remind=_remind_points(sec))
        camp = _with_outline(sec, camp)
        sec.reject_unknown()
        if camp.deadline <= camp.opens:
            raise sec.fail("deadline", _("must be after opens"))
        _check_refs(sec, camp.units, ids, groups)
        out.append(camp)
    if len({c.id for c in out}) != len(out):
        raise top.fail("campaigns", _("duplicate campaign id"))
    return tuple(out)


def _with_outline(sec: _Section, camp: CampaignConfig) -> CampaignConfig:
    """`outline` (the đề cương's headings with their numbers) and `outline_required` (the required
    heading, by its number or words; by default the one the section title matches best)."""
    headings = sec.strings("outline")
    named = sec.get("outline_required", str)
    if not headings:
        if named is not None:
            raise sec.fail("outline_required", "needs outline")
        return camp
    try:
        template = template_of(headings)
    except UsageError as exc:
        raise sec.fail("outline", f"every heading needs its number (I., 1., a)): {exc}") from exc
    try:
        required = required_of(template, camp.section_title, named)
    except UsageError as exc:
        raise sec.fail("outline_required", f"not a heading of outline: {named!r}") from exc
    if required is None:
        raise sec.fail("outline_required", "no heading of outline matches section_title: name the required one")
    return dataclasses.replace(camp, outline=template, outline_required=required)


def _remind_points(sec: _Section) -> tuple[RemindPoint, ...]:
    labels = sec.strings("remind")
    bad = [r for r in labels if not REMIND_RE.match(r)]
    if bad:
        raise sec.fail("remind", _("expected offsets such as \"-3d\", \"+1d\", \"-12h\", got \"{value}\"",
                                  value=bad[0]))
    return tuple(RemindPoint(label, remind_offset(label)) for label in labels)


def _check_refs(sec: _Section, refs: tuple[str, ...], ids: set[str], groups: set[str]) -> None:
    for ref in refs:
        if ref == "*":
            continue
        if ref.startswith("group:"):
            if ref[6:] not in groups:
                raise sec.fail("units", _("no unit has group \"{group}\"", group=ref[6:]))
        elif ref not in ids:
            raise sec.fail("units", _("no unit with id \"{id}\"", id=ref))


def remind_offset(spec: str) -> dt.timedelta:
    """'-3d' -> -3 days; '+12h' -> 12 hours (validated by the loader)."""
    sign = -1 if spec[0] == "-" else 1
    amount = int(spec[1:-1])
    unit: Callable[[int], dt.timedelta] = (lambda n: dt.timedelta(days=n)) if spec[-1] == "d" \
        else (lambda n: dt.timedelta(hours=n))
    return sign * unit(amount)
