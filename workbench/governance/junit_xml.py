"""The JUnit report's XML, written as text: the gate's 11,000 elements at 1,000 contracts.

The report used to be an ElementTree: built, walked once to make every string safe,
indented, walked again for namespaces and serialised. This writer gives the same bytes in
one pass: the same escaping as ElementTree's serialiser (``&<>`` in text; ``&<>"`` and CR,
LF, tab as character references in attributes), the same safety (every text through
`safe_text.xml`, every attribute through `safe_text.line`, each applied once), the same
indentation as ``ElementTree.indent`` (two spaces; an element with children starts them on
a new line) and the same ``<tag />`` for an element with no text and no children.
`tests/governance/test_junit_xml.py` compares it with ElementTree on hostile strings.

Only what the JUnit report uses: no namespaces, no comments, no tails, and an element has
either text or children (never mixed content).
"""

from __future__ import annotations

from workbench.model import safe_text


class Element:
    """One XML element: its tag, its attributes in the order given, its text or children."""

    __slots__ = ("tag", "attrib", "text", "children")

    def __init__(self, tag: str, **attrib: str) -> None:
        self.tag = tag
        self.attrib = attrib
        self.text: str | None = None
        self.children: list[Element] = []

    def add(self, tag: str, **attrib: str) -> Element:
        """A new child element, appended (ElementTree's ``SubElement``)."""
        child = Element(tag, **attrib)
        self.children.append(child)
        return child


def _cdata(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _attribute(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    if "\n" in text:
        text = text.replace("\n", "&#10;")
    if "\t" in text:
        text = text.replace("\t", "&#09;")
    return text


def _write(element: Element, level: int, out: list[str]) -> None:
    parts = ["<", element.tag]
    for name, value in element.attrib.items():
        parts += [" ", name, '="', _attribute(safe_text.line(value)), '"']
    out.append("".join(parts))
    if element.children:
        inner = "\n" + "  " * (level + 1)
        out.append(">")
        for child in element.children:
            out.append(inner)
            _write(child, level + 1, out)
        out.append("\n" + "  " * level + "</" + element.tag + ">")
        return
    text = safe_text.xml(element.text) if element.text else element.text
    if text:
        out.append(">" + _cdata(text) + "</" + element.tag + ">")
    else:
        out.append(" />")


def document(root: Element) -> str:
    """The whole document: the XML declaration, the indented tree, a final newline."""
    out: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    _write(root, 0, out)
    out.append("\n")
    return "".join(out)
