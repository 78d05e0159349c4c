"""Reading and checking the content files: entries, the contact allow-list and synonyms."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from knowledge.model import KINDS, ROLES, TOPICS, Contact, Entry, KnowledgeError
from knowledge.render import render

FOLDERS = {"protocol": "protocols", "training": "training"}
TRAINING_FIELDS = ("audience", "format", "provider", "how_to_join")
# What cannot be verified is left out, so a training may name no provider.
REQUIRED_TRAINING_FIELDS = ("audience", "format", "how_to_join")
REQUIRED_FIELDS = ("id", "kind", "title", "topics", "sources", "reviewed")
KNOWN_FIELDS = frozenset(
    REQUIRED_FIELDS + TRAINING_FIELDS + ("roles", "keywords", "contacts", "call", "for_roles")
)
MAX_TITLE = 80
MAX_ANSWER = 600
MAX_STEP = 300
MAX_FOR_ROLE = 200
MAX_NOW_STEPS = 4
# The first answer, as the chat shows it, fits on a phone screen.
MAX_FIRST_ANSWER = 500
MORE_HEADING = "## Meer"
# A source is a real link: https, a host, a path; no shortened paths or short names.
_SOURCE = re.compile(r"https://(?:[a-z0-9-]+\.)+[a-z]{2,}(?:/[^\s]*)?", re.I)
# Words that mark something as unchecked: such a fact is left out, not shown.
_UNVERIFIED = re.compile(r"niet bevestigd", re.I)

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n(.*)\Z", re.S)
_STEP = re.compile(r"(\d+)\.\s+(\S.*)")
_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# A Dutch phone number: 0 or +31, then at least seven more digits, maybe split by spaces or
# dashes; or a short number of the 11x family (112). Digits glued to a letter, slash, dot or
# comma are part of something else (a date in a path, an amount).
_PHONE = re.compile(r"(?<![\w/.,€+-])(?:(?:\+31[ -]?|0)[1-9](?:[ -]?\d){6,10}|11\d)(?![\w%])")
_ADDRESS = re.compile(
    r"(?:https?://)?(?:www\.)?((?:[a-z0-9-]+\.)+(?:nl|com|org|net|eu|info))\b", re.I
)


def digits(phone: str) -> str:
    """The digits of a phone number, with +31 written as 0."""
    number = re.sub(r"\D", "", phone)
    return "0" + number[2:] if phone.strip().startswith("+31") else number


def phone_numbers(text: str) -> list[str]:
    """Every phone number written in a text, as written."""
    return [match.group(0) for match in _PHONE.finditer(text)]


def web_addresses(text: str) -> list[str]:
    """The host of every web address written in a text, lowercased."""
    return [match.group(1).lower() for match in _ADDRESS.finditer(text)]


@dataclass(frozen=True)
class Listed:
    """A contact the content may name, with the numbers and addresses it may give."""

    name: str
    phones: tuple[str, ...]
    urls: tuple[str, ...]
    caveat: str | None


@dataclass(frozen=True)
class AllowList:
    """What contacts.yml allows: named contacts and extra web addresses."""

    contacts: Mapping[str, Listed]
    addresses: tuple[str, ...]

    def allows_phone(self, phone: str) -> bool:
        """Whether a phone number belongs to any listed contact."""
        number = digits(phone)
        return any(number == digits(p) for c in self.contacts.values() for p in c.phones)

    def allows_address(self, host: str) -> bool:
        """Whether a web host is listed, for a contact or on its own."""
        hosts = {h for c in self.contacts.values() for u in c.urls for h in web_addresses(u)}
        hosts.update(h for a in self.addresses for h in web_addresses(a))
        return host.lower() in hosts


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _read_yaml(path: Path, root: Path, problems: list[str]) -> Any:
    name = _relative(path, root)
    if not path.is_file():
        problems.append(f"{name}: file is missing")
        return None
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        problems.append(f"{name}: not valid YAML ({_first_line(error)})")
        return None


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _texts(value: Any) -> tuple[str, ...] | None:
    """A list of non-empty strings as a tuple, or None when it is anything else."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        return None
    return tuple(v.strip() for v in value)


def read_allow_list(root: Path) -> AllowList:
    """Read contacts.yml; raises KnowledgeError when it is missing or malformed."""
    problems: list[str] = []
    path = root / "contacts.yml"
    name = _relative(path, root)
    data = _read_yaml(path, root, problems)
    contacts: dict[str, Listed] = {}
    if problems:
        raise KnowledgeError(problems)
    if not isinstance(data, dict) or not isinstance(data.get("contacts"), list):
        raise KnowledgeError([f"{name}: needs a list under 'contacts'"])
    for number, item in enumerate(data["contacts"], 1):
        where = f"{name}: contact {number}"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            problems.append(f"{where}: needs a name")
            continue
        phones = _texts(item.get("phones", []))
        urls = _texts(item.get("urls", []))
        caveat = item.get("caveat")
        if phones is None or urls is None:
            problems.append(f"{where} ({item['name']}): phones and urls must be lists of text")
        elif caveat is not None and not isinstance(caveat, str):
            problems.append(f"{where} ({item['name']}): caveat must be text")
        elif item["name"] in contacts:
            problems.append(f"{where}: {item['name']!r} is listed twice")
        else:
            contacts[item["name"]] = Listed(item["name"], phones, urls, caveat)
    addresses = _texts(data.get("addresses", []))
    if addresses is None:
        problems.append(f"{name}: 'addresses' must be a list of text")
    if problems:
        raise KnowledgeError(problems)
    return AllowList(contacts, addresses or ())


def read_synonyms(root: Path) -> dict[str, tuple[str, ...]]:
    """Read synonyms.yml: each key with the words people use for it."""
    problems: list[str] = []
    path = root / "synonyms.yml"
    name = _relative(path, root)
    data = _read_yaml(path, root, problems)
    if problems:
        raise KnowledgeError(problems)
    if not isinstance(data, dict):
        raise KnowledgeError([f"{name}: needs a mapping of word to list of synonyms"])
    synonyms: dict[str, tuple[str, ...]] = {}
    for key, value in data.items():
        words = _texts(value)
        if words is None:
            problems.append(f"{name}: {key!r} needs a list of synonyms")
        else:
            synonyms[str(key)] = words
    if problems:
        raise KnowledgeError(problems)
    return synonyms


def _parse_part(body: str, problems: list[str], *, part: str) -> tuple[str, tuple[str, ...]]:
    """One part of the body: a paragraph, then numbered steps."""
    paragraphs: list[list[str]] = [[]]
    steps: list[str] = []
    for line in body.splitlines():
        step = _STEP.fullmatch(line.strip()) if not line.startswith((" ", "\t")) else None
        if step:
            if int(step.group(1)) != len(steps) + 1:
                problems.append(f"step {step.group(1)} should be numbered {len(steps) + 1}")
            steps.append(step.group(2).strip())
        elif not line.strip():
            if not steps and paragraphs[-1]:
                paragraphs.append([])
        elif steps and line.startswith((" ", "\t")):
            steps[-1] = f"{steps[-1]} {line.strip()}"
        elif steps:
            problems.append(f"text after the steps: {line.strip()[:40]!r}")
        else:
            paragraphs[-1].append(line.strip())
    paragraphs = [p for p in paragraphs if p]
    if len(paragraphs) > 1:
        problems.append(f"{part}: one paragraph before the steps")
    answer = " ".join(paragraphs[0]) if paragraphs else ""
    if len(answer) > MAX_ANSWER:
        problems.append(f"{part}: {len(answer)} characters; keep it under {MAX_ANSWER}")
    for number, text in enumerate(steps, 1):
        if len(text) > MAX_STEP:
            problems.append(f"step {number} is {len(text)} characters; keep it under {MAX_STEP}")
    return answer, tuple(steps)


def _parse_body(
    body: str, kind: str, problems: list[str]
) -> tuple[str, tuple[str, ...], str | None, tuple[str, ...]]:
    """The answer and what to do now; after a '## Meer' line, the rest."""
    first, heading, rest = body.partition(f"\n{MORE_HEADING}\n")
    if MORE_HEADING in first:
        problems.append(f"'{MORE_HEADING}' must stand on a line of its own")
    answer, steps = _parse_part(first, problems, part="the answer")
    more, more_steps = _parse_part(rest, problems, part="the part after 'Meer'")
    if not answer:
        problems.append("missing the answer paragraph")
    if not steps:
        problems.append("missing numbered steps")
    elif kind == "protocol" and len(steps) > MAX_NOW_STEPS:
        problems.append(
            f"{len(steps)} steps before '{MORE_HEADING}'; give at most {MAX_NOW_STEPS} "
            "and put the rest after it"
        )
    if heading and not (more or more_steps):
        problems.append(f"nothing after '{MORE_HEADING}'")
    return answer, steps, more or None, more_steps


def _parse_sources(value: Any, problems: list[str]) -> tuple[str, ...]:
    sources = _texts(value or [])
    if sources is None:
        problems.append("sources must be a list of text")
        return ()
    for source in sources:
        if not _SOURCE.fullmatch(source) or "..." in source or "…" in source:
            problems.append(f"source {source!r} is not a full https:// link")
    return sources


def _parse_call(value: Any, contacts: tuple[Contact, ...], problems: list[str]) -> Contact | None:
    """The one number that matters: a phone of one of the entry's contacts."""
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append("call must be a quoted phone number")
        return None
    for contact in contacts:
        if contact.phone and digits(contact.phone) == digits(value):
            return contact
    problems.append(f"call {value} is not the phone of one of the entry's contacts")
    return None


def _parse_for_roles(value: Any, problems: list[str]) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict) or not all(
        isinstance(v, str) and v.strip() for v in value.values()
    ):
        problems.append("for_roles must map a role to one sentence")
        return ()
    wrong = [str(role) for role in value if role not in ROLES]
    if wrong:
        problems.append(f"unknown for_roles: {', '.join(wrong)} (allowed: {', '.join(ROLES)})")
    for role, text in value.items():
        if len(text) > MAX_FOR_ROLE:
            problems.append(f"for_roles {role}: keep it under {MAX_FOR_ROLE} characters")
    return tuple((str(role), text.strip()) for role, text in value.items())


def _parse_contacts(value: Any, allow: AllowList, problems: list[str]) -> tuple[Contact, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append("contacts must be a list")
        return ()
    contacts = []
    for number, item in enumerate(value, 1):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            problems.append(f"contact {number} needs a name")
            continue
        unknown = set(item) - {"name", "phone", "url", "note"}
        fields = {key: item.get(key) for key in ("phone", "url", "note")}
        listed = allow.contacts.get(item["name"])
        if unknown:
            problems.append(f"contact {number} has unknown fields: {', '.join(sorted(unknown))}")
        if any(v is not None and not isinstance(v, str) for v in fields.values()):
            problems.append(f"contact {number}: phone, url and note must be quoted text")
            continue
        if listed is None:
            problems.append(f"contact {item['name']!r} is not in contacts.yml")
            continue
        phone, url, note = fields["phone"], fields["url"], fields["note"]
        if phone and digits(phone) not in {digits(p) for p in listed.phones}:
            problems.append(f"contact {listed.name!r}: phone {phone} is not in contacts.yml")
        if url and url not in listed.urls:
            problems.append(f"contact {listed.name!r}: url {url} is not in contacts.yml")
        caveat = listed.caveat if phone or not note else None
        if caveat and caveat not in (note or ""):
            # An unchecked number is never shown without its warning.
            note = f"{note} {caveat}" if note else caveat
        contacts.append(Contact(listed.name, phone, url, note, caveat))
    return tuple(contacts)


def _parse_reviewed(value: Any, problems: list[str]) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.append("reviewed must be an ISO date such as 2026-11-29")
    return date.min


def _check_meta(meta: dict[str, Any], path: Path, kind: str, problems: list[str]) -> None:
    """Problems with the front-matter fields that need no parsing."""
    for field in REQUIRED_FIELDS:
        if meta.get(field) in (None, "", []):
            problems.append(f"missing {field}")
    unknown = sorted(str(k) for k in set(meta) - KNOWN_FIELDS)
    if unknown:
        problems.append(f"unknown fields: {', '.join(unknown)}")
    if "id" in meta and (not isinstance(meta["id"], str) or meta["id"] != path.stem):
        problems.append(f"id must be the file name without .md ({path.stem!r})")
    elif "id" in meta and not _ID.fullmatch(meta["id"]):
        problems.append("id may hold only lowercase letters, digits and dashes")
    if "kind" in meta and meta["kind"] != kind:
        problems.append(f"kind must be {kind!r} for a file in {FOLDERS[kind]}/")
    title = meta.get("title")
    if "title" in meta and (not isinstance(title, str) or len(title) > MAX_TITLE):
        problems.append(f"title must be text of at most {MAX_TITLE} characters")
    for field in TRAINING_FIELDS:
        given = meta.get(field)
        required = field in REQUIRED_TRAINING_FIELDS
        if kind == "training" and given is not None and not isinstance(given, str):
            problems.append(f"{field} must be text")
        elif kind == "training" and required and not (given or "").strip():
            problems.append(f"a training needs {field}")
        if kind == "protocol" and given is not None:
            problems.append(f"{field} is only for training entries")
        if isinstance(given, str) and _UNVERIFIED.search(given):
            problems.append(f"{field}: leave out what is not verified instead of saying so")


def _vocabulary(
    meta: dict[str, Any], field: str, allowed: tuple[str, ...], problems: list[str]
) -> tuple[str, ...]:
    values = _texts(meta.get(field) or [])
    if values is None:
        problems.append(f"{field} must be a list of text")
        return ()
    wrong = [v for v in values if v not in allowed]
    if wrong:
        problems.append(f"unknown {field}: {', '.join(wrong)} (allowed: {', '.join(allowed)})")
    return values


def read_entry(path: Path, kind: str, allow: AllowList, name: str | None = None) -> Entry:
    """Read and check one entry file; raises KnowledgeError with every problem found."""
    name = name or str(path)
    problems: list[str] = []
    try:
        text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError:
        raise KnowledgeError([f"{name}: not UTF-8 text"]) from None
    found = _FRONT_MATTER.match(text)
    meta: Any = None
    if not found:
        problems.append("needs YAML front matter between two '---' lines")
    else:
        try:
            meta = yaml.safe_load(found.group(1))
        except yaml.YAMLError as error:
            problems.append(f"front matter is not valid YAML ({_first_line(error)})")
        if meta is not None and not isinstance(meta, dict):
            problems.append("front matter must be a mapping of fields")
    if not isinstance(meta, dict):
        raise KnowledgeError(f"{name}: {p}" for p in problems)
    _check_meta(meta, path, kind, problems)
    answer, steps, more, more_steps = _parse_body(found.group(2) if found else "", kind, problems)
    topics = _vocabulary(meta, "topics", TOPICS, problems)
    roles = _vocabulary(meta, "roles", ROLES, problems)
    keywords = _texts(meta.get("keywords") or [])
    sources = _parse_sources(meta.get("sources"), problems)
    if keywords is None:
        problems.append("keywords must be a list of text")
    contacts = _parse_contacts(meta.get("contacts"), allow, problems)
    call = _parse_call(meta.get("call"), contacts, problems)
    for_roles = _parse_for_roles(meta.get("for_roles"), problems)
    reviewed = _parse_reviewed(meta.get("reviewed"), problems)
    problems += [
        f"phone number {p} is not in contacts.yml"
        for p in phone_numbers(text)
        if not allow.allows_phone(p)
    ]
    shown = " ".join(
        [found.group(2) if found else "", str(meta.get("title"))]
        + list(keywords or ())
        + [str(meta.get(f) or "") for f in TRAINING_FIELDS]
        + [text for _, text in for_roles]
    )
    problems += [
        f"web address {a} is not in contacts.yml"
        for a in web_addresses(shown)
        if not allow.allows_address(a)
    ]
    if problems:
        raise KnowledgeError(f"{name}: {p}" for p in problems)
    training = {f: (meta.get(f) or "").strip() or None for f in TRAINING_FIELDS}
    entry = Entry(
        id=meta["id"],
        kind=kind,
        title=meta["title"].strip(),
        answer=answer,
        steps=steps,
        contacts=contacts,
        roles=roles,
        topics=topics,
        sources=sources,
        reviewed=reviewed,
        call=call,
        more=more,
        more_steps=more_steps,
        audience=training["audience"],
        format=training["format"],
        provider=training["provider"],
        how_to_join=training["how_to_join"],
        for_roles=for_roles,
        keywords=keywords or (),
    )
    for role in (None, *(role for role, _ in for_roles)):
        length = len(render(entry, role=role))
        if length > MAX_FIRST_ANSWER:
            problems.append(
                f"the first answer{f' for a {role}' if role else ''} is {length} characters; "
                f"keep it under {MAX_FIRST_ANSWER} (move steps after '{MORE_HEADING}')"
            )
    if problems:
        raise KnowledgeError(f"{name}: {p}" for p in problems)
    return entry


def read_entries(root: Path, allow: AllowList) -> list[Entry]:
    """Read every entry under root, in id order; raises KnowledgeError listing all problems."""
    problems: list[str] = []
    entries: list[Entry] = []
    for kind in KINDS:
        folder = root / FOLDERS[kind]
        if not folder.is_dir():
            problems.append(f"{_relative(folder, root)}: folder is missing")
            continue
        for path in sorted(folder.glob("*.md")):
            try:
                entries.append(read_entry(path, kind, allow, _relative(path, root)))
            except KnowledgeError as error:
                problems += error.problems
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            problems.append(f"{entry.id}: the same id is used twice")
        seen.add(entry.id)
    if not entries and not problems:
        problems.append(f"{root}: no entries found")
    if problems:
        raise KnowledgeError(problems)
    return sorted(entries, key=lambda e: e.id)
