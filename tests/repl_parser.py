"""A reader for the subset of Renode's platform description format (.repl) that
platforms/*.repl use, so tests can check them against the QEMU machines.

Understood: `using "path"` (local files are read, others such as Renode's own
platforms/cpus/stm32f4.repl are recorded as external), `//` and `/* */` comments,
creating and updating entries (`name: Type @ registration`, `name: @ reg`, `name:`),
registrations (`@ sysbus 0xADDR`, `@ sysbus <0xA, +0xSIZE>`, `@ { ...; ... }` with
`new Bus.BusMultiRegistration { address: ...; size: ... }`, `@ parent N`, `@ none`),
attributes `key: value` (numbers, strings, booleans, references), interrupt
attributes (`-> dst@n`, `[0-4] -> dst@[6-10]`, `name -> dst#i@n | dst2@m`) and
`init:`/`init add:`/`reset:`/`preinit:` blocks. Entries are merged as Renode does:
later attributes, registrations and interrupt sources override earlier ones.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Registration:
    parent: str                 # "sysbus", "gpioPortG", "ethernet", ...
    address: int | None         # bus address or the parent's slot number
    size: int | None = None     # given by a range or a BusMultiRegistration


@dataclass
class Irq:
    source: str | int | None    # None: the default interrupt
    dest: str
    line: int
    local: int | None = None    # `dest#local@line`


@dataclass
class Entry:
    name: str
    type: str | None = None
    registrations: list[Registration] | None = None     # None: not given
    props: dict = field(default_factory=dict)
    irqs: dict = field(default_factory=dict)            # source -> [Irq]
    init: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)      # where it was written

    def prop(self, name, default=None):
        return self.props.get(name, default)

    def sysbus(self) -> list[Registration]:
        return [r for r in self.registrations or [] if r.parent == "sysbus"]

    def nvic_lines(self) -> list[int]:
        return sorted(i.line for irqs in self.irqs.values() for i in irqs if i.dest == "nvic")


@dataclass
class Platform:
    entries: dict[str, Entry]
    external: list[str]         # `using` files not in this repository

    def __getitem__(self, name):
        return self.entries[name]

    def __contains__(self, name):
        return name in self.entries

    def of_type(self, type_suffix):
        return [e for e in self.entries.values() if e.type and e.type.endswith(type_suffix)]


class ReplError(ValueError):
    pass


def _number(text: str) -> int:
    return int(text, 0)


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m[0].count("\n"), text, flags=re.S)
    out = []
    for line in text.splitlines():
        # `//` outside a string
        in_str, cut = False, len(line)
        for i, ch in enumerate(line):
            if ch == '"':
                in_str = not in_str
            elif not in_str and line.startswith("//", i):
                cut = i
                break
        out.append(line[:cut].rstrip())
    return "\n".join(out)


def _expand(spec: str) -> list:
    """'[0-4, 7]' -> [0, 1, 2, 3, 4, 7]; '5' -> [5]; names stay names."""
    spec = spec.strip()
    if spec.startswith("["):
        items = []
        for part in spec[1:-1].split(","):
            part = part.strip()
            m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", part)
            if m:
                items += list(range(int(m[1]), int(m[2]) + 1))
            else:
                items.append(int(part, 0) if re.fullmatch(r"0x[0-9a-fA-F]+|\d+", part) else part)
        return items
    if re.fullmatch(r"0x[0-9a-fA-F]+|\d+", spec):
        return [int(spec, 0)]
    return [spec or None]


def _parse_irq(line: str) -> list[Irq]:
    src, _, dests = line.partition("->")
    sources = _expand(src) if src.strip() else [None]
    out = []
    for dest in dests.split("|"):
        dest = dest.strip()
        if dest == "none":
            continue
        m = re.fullmatch(r"(\w+)(?:#(\d+))?@(.+)", dest)
        if not m:
            raise ReplError(f"bad interrupt destination {dest!r} in {line!r}")
        lines = _expand(m[3])
        if len(lines) != len(sources):
            raise ReplError(f"arity differs in {line!r}")
        local = int(m[2]) if m[2] else None
        out += [Irq(s, m[1], n, local) for s, n in zip(sources, lines)]
    return out


def _parse_registration(text: str) -> list[Registration] | None:
    text = text.strip()
    if text == "none":
        return []
    if text.startswith("{"):
        body = text[1:text.rindex("}")]
        parts, depth, cur = [], 0, ""
        for ch in body:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            if ch == ";" and depth == 0:
                parts.append(cur)
                cur = ""
            else:
                cur += ch
        parts.append(cur)
        regs = []
        for p in parts:
            if p.strip():
                regs += _parse_registration(p)
        return regs
    m = re.fullmatch(r"(\w+)\s+new\s+Bus\.\w+\s*\{(.*)\}", text, re.S)
    if m:
        fields = dict((k.strip(), v.strip()) for k, _, v in
                      (f.partition(":") for f in m[2].split(";")) if k.strip())
        return [Registration(m[1], _number(fields["address"]),
                             _number(fields["size"]) if "size" in fields else None)]
    m = re.fullmatch(r"(\w+)\s*<\s*(\w+)\s*,\s*(\+?)\s*(\w+)\s*>", text)
    if m:
        start, end = _number(m[2]), _number(m[4])
        return [Registration(m[1], start, end if m[3] else end - start + 1)]
    m = re.fullmatch(r"(\w+)(?:\s+(\w+))?", text)
    if m:
        return [Registration(m[1], _number(m[2]) if m[2] else None)]
    raise ReplError(f"registration not understood: {text!r}")


def _value(text: str):
    text = text.strip()
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?(0x[0-9a-fA-F]+|\d+)", text):
        return int(text, 0)
    return text                 # a reference, a list or an inline object: as written


def _logical_lines(text: str):
    """(indent, text) per logical line; a registration in braces is joined."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        depth = line.count("{") - line.count("}")
        while depth > 0 and i + 1 < len(lines):
            i += 1
            line += " " + lines[i].strip()
            depth += lines[i].count("{") - lines[i].count("}")
        indent = len(line) - len(line.lstrip(" "))
        if indent % 4:
            raise ReplError(f"indent is not a multiple of 4: {line!r}")
        yield indent, line.strip()
        i += 1


def parse(path, _entries=None, _external=None, _seen=None) -> Platform:
    path = Path(path).resolve()
    entries = {} if _entries is None else _entries
    external = [] if _external is None else _external
    seen = set() if _seen is None else _seen
    if path in seen:
        raise ReplError(f"using cycle at {path}")
    seen.add(path)
    text = _strip_comments(path.read_text())
    cur, block, block_mode = None, None, None
    for indent, line in _logical_lines(text):
        if indent == 0:
            block = None
            m = re.fullmatch(r'using\s+"([^"]+)"', line)
            if m:
                if cur is not None:
                    raise ReplError(f"{path}: using after an entry")
                local = (path.parent / m[1]).resolve()
                if m[1].startswith("./") or m[1].startswith("../"):
                    parse(local, entries, external, seen)
                else:
                    external.append(m[1])
                continue
            m = re.fullmatch(r"(?:local\s+)?(\w+)\s*:\s*([\w.]+)?\s*(?:@\s*(.*))?", line)
            if not m:
                raise ReplError(f"{path}: entry not understood: {line!r}")
            name, typ, reg = m[1], m[2], m[3]
            cur = entries.setdefault(name, Entry(name))
            cur.files.append(path.name)
            if typ:
                if cur.type and cur.type != typ:
                    raise ReplError(f"{name} created twice ({cur.type}, {typ})")
                cur.type = typ
            if reg is not None:
                cur.registrations = _parse_registration(reg)
            continue
        if cur is None:
            raise ReplError(f"{path}: attribute outside an entry: {line!r}")
        if indent == 4:
            block = None
            m = re.fullmatch(r"(init|reset|preinit)(\s+add)?\s*:", line)
            if m:
                block = m[1]
                block_mode = "add" if m[2] else "replace"
                if block == "init" and block_mode == "replace":
                    cur.init = []
                continue
            if "->" in line:
                src, _, dests = line.partition("->")
                if dests.strip() == "none":             # `source -> none` cancels
                    for s in (_expand(src) if src.strip() else [None]):
                        cur.irqs.pop(s, None)
                    continue
                by_source = {}
                for irq in _parse_irq(line):
                    by_source.setdefault(irq.source, []).append(irq)
                cur.irqs.update(by_source)
                continue
            key, sep, value = line.partition(":")
            if not sep:
                raise ReplError(f"{path}: attribute not understood: {line!r}")
            cur.props[key.strip()] = _value(value)
            continue
        if block == "init":
            cur.init.append(line)
        elif block is None:
            raise ReplError(f"{path}: unexpected indentation: {line!r}")
    return Platform(entries, external)
